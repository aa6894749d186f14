"""Drive webdavclient3 (PyPI) for tests/clients/webdavclient3.rs (clients.md §9).

Usage: python webdavclient3_client.py BASE USER PASSWORD DAV_ROOT WORKDIR
Runs the client's common operations under DAV_ROOT/wdc3, printing `ok <step>` per step, and
exits non-zero (traceback) at the first failure. WORKDIR holds local files.
"""

import os
import sys

from webdav3.client import Client


def main():
    base, user, password, root, work = sys.argv[1:6]
    c = Client({
        "webdav_hostname": base,
        "webdav_login": user,
        "webdav_password": password,
        "webdav_root": root,
    })

    def ok(step):
        print(f"ok {step}", flush=True)

    assert c.check("/"), "check() (HEAD on the root folder) must succeed"
    ok("check")
    c.mkdir("wdc3")
    assert c.is_dir("wdc3")
    ok("mkdir")
    src = os.path.join(work, "src")
    os.makedirs(os.path.join(src, "tree", "sub"))
    with open(os.path.join(src, "one.txt"), "wb") as f:
        f.write(b"one\n")
    with open(os.path.join(src, "tree", "two.txt"), "wb") as f:
        f.write(b"two\n")
    with open(os.path.join(src, "tree", "sub", "three.bin"), "wb") as f:
        f.write(bytes(range(256)) * 4096)
    c.upload_sync(remote_path="wdc3/one.txt", local_path=os.path.join(src, "one.txt"))
    ok("upload file")
    c.upload_sync(remote_path="wdc3/tree", local_path=os.path.join(src, "tree"))
    ok("upload tree")
    listing = sorted(x.rstrip("/") for x in c.list("wdc3"))
    assert "one.txt" in listing and "tree" in listing, listing
    ok("list")
    info = c.info("wdc3/one.txt")
    assert info["size"] == "4", info
    assert not c.is_dir("wdc3/one.txt")
    ok("info")
    assert c.check("wdc3/one.txt") and not c.check("wdc3/missing.txt")
    ok("check file")
    prop = {"namespace": "http://example.org/ns", "name": "tag", "value": "wdc3"}
    c.set_property("wdc3/one.txt", option=prop)
    got = c.get_property("wdc3/one.txt", option={"namespace": prop["namespace"], "name": "tag"})
    assert got == "wdc3", got
    ok("property")
    down = os.path.join(work, "down")
    c.download_sync(remote_path="wdc3/tree", local_path=down)
    with open(os.path.join(down, "sub", "three.bin"), "rb") as f:
        assert f.read() == bytes(range(256)) * 4096
    ok("download tree")
    c.copy(remote_path_from="wdc3/one.txt", remote_path_to="wdc3/copy.txt")
    c.move(remote_path_from="wdc3/copy.txt", remote_path_to="wdc3/moved.txt")
    assert c.check("wdc3/moved.txt") and not c.check("wdc3/copy.txt")
    ok("copy move")
    c.clean("wdc3/tree/sub")
    assert not c.check("wdc3/tree/sub")
    ok("clean")


if __name__ == "__main__":
    main()
