"""Drive tuspy (PyPI `tuspy`) for tests/clients/tus_py.rs.

Uploads one file to a tus creation endpoint (a space folder URL) chunk by chunk, printing one
JSON object per line: `start` (with the stored URL and offset when resuming), `created`,
`chunk` (offset after each PATCH), `paused` (then sleeps until killed, with --pause-after),
and `done`. Errors propagate (non-zero exit, traceback on stderr).
"""

import argparse
import base64
import json
import os
import sys
import time

from tusclient import client
from tusclient.storage import filestorage


def emit(**event):
    print(json.dumps(event), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--chunk-size", type=int, default=1024 * 1024)
    p.add_argument("--meta", action="append", default=[], help="key=value")
    p.add_argument("--store", help="URL storage file (enables resume by fingerprint)")
    p.add_argument("--pause-after", type=int, default=0, help="chunks, then sleep")
    p.add_argument("--checksum", action="store_true", help="Upload-Checksum on PATCH")
    a = p.parse_args()

    auth = base64.b64encode(f"{a.user}:{a.password}".encode()).decode()
    tus = client.TusClient(a.endpoint, headers={"Authorization": f"Basic {auth}"})
    kwargs = {}
    if a.store:
        kwargs = {"store_url": True, "url_storage": filestorage.FileStorage(a.store)}
    uploader = tus.uploader(
        a.file,
        chunk_size=a.chunk_size,
        metadata=dict(m.split("=", 1) for m in a.meta),
        upload_checksum=a.checksum,
        **kwargs,
    )
    size = os.path.getsize(a.file)
    emit(event="start", url=uploader.url, offset=uploader.offset, size=size)
    uploader.stop_at = size
    if not uploader.url:
        uploader.set_url(uploader.create_url())
        uploader.offset = 0
        emit(event="created", url=uploader.url)
    chunks = 0
    while uploader.offset < size:
        uploader.upload_chunk()
        chunks += 1
        emit(event="chunk", offset=uploader.offset)
        if a.pause_after and chunks == a.pause_after and uploader.offset < size:
            emit(event="paused", offset=uploader.offset)
            time.sleep(3600)
    emit(event="done", url=uploader.url, offset=uploader.offset, chunks=chunks)


if __name__ == "__main__":
    sys.exit(main())
