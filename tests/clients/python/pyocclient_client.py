"""Drive pyocclient (PyPI `pyocclient`) for tests/clients/pyocclient.rs.

As the owner: log in (which parses the XML capabilities), upload a file and make a folder,
create a public link on the file and a user share on the folder, and list them. As an
anonymous second client: fetch the file through the link. As the recipient: list what was
shared with them. Then the owner deletes both shares by their integer ids and lists again.
Prints one JSON object per line; errors propagate (non-zero exit, traceback on stderr).
"""

import argparse
import json

import owncloud


def emit(**event):
    print(json.dumps(event), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--recipient", required=True)
    p.add_argument("--recipient-password", required=True)
    a = p.parse_args()

    oc = owncloud.Client(a.url)
    oc.login(a.user, a.password)
    emit(event="login", version=oc.get_version())
    oc.put_file_contents("/linked.txt", b"through a public link")
    oc.mkdir("/team")
    link = oc.share_file_with_link("/linked.txt")
    emit(event="link", id=link.get_id(), token=link.get_token(), url=link.get_link())
    share = oc.share_file_with_user("/team", a.recipient, perms=oc.OCS_PERMISSION_READ)
    emit(event="share", id=share.get_id())
    listed = oc.get_shares()
    emit(
        event="listed",
        shares=[[s.get_id(), s.get_share_type(), s.get_path()] for s in listed],
    )
    on_path = oc.get_shares("/team")
    emit(event="on_path", ids=[s.get_id() for s in on_path])

    anon = owncloud.Client(a.url)
    anon.anon_login(link.get_token())
    emit(event="anonymous", content=anon.get_file_contents("/linked.txt").decode())

    bob = owncloud.Client(a.url)
    bob.login(a.recipient, a.recipient_password)
    received = bob.get_shares("/", shared_with_me=True)
    emit(event="received", paths=[s.get_path() for s in received])

    emit(event="deleted_link", ok=bool(oc.delete_share(link.get_id())))
    emit(event="deleted_share", ok=bool(oc.delete_share(share.get_id())))
    emit(event="after", ids=[s.get_id() for s in oc.get_shares()])


if __name__ == "__main__":
    main()
