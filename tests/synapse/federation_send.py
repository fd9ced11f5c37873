"""Sends one made-up message into a room over federation, as a homeserver, signed with that
server's own key, and prints the receiving server's answer as JSON.

The end-to-end tests use it to show that a server left out of a room's server ACL is refused
by ours: a server that is not in a room cannot get into it through the client API, so the test
speaks federation itself.

usage: federation_send.py ORIGIN SIGNING_KEY_FILE DESTINATION ROOM_ID SENDER BODY
"""

import json
import ssl
import sys
import time
import urllib.error
import urllib.request

from signedjson.key import read_signing_keys
from signedjson.sign import sign_json


def main() -> None:
    origin, key_file, destination, room_id, sender, body = sys.argv[1:7]
    with open(key_file) as keys:
        key = read_signing_keys(keys)[0]
    now = int(time.time() * 1000)
    pdu = {
        "room_id": room_id,
        "sender": sender,
        "origin_server_ts": now,
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": body},
        "depth": 10,
        "prev_events": [],
        "auth_events": [],
        "hashes": {"sha256": "AAAA"},
    }
    transaction = {"origin": origin, "origin_server_ts": now, "pdus": [pdu], "edus": []}
    uri = f"/_matrix/federation/v1/send/brigade-test-{now}"
    request = sign_json(
        {
            "method": "PUT",
            "uri": uri,
            "origin": origin,
            "destination": destination,
            "content": transaction,
        },
        origin,
        key,
    )
    signature = request["signatures"][origin][f"{key.alg}:{key.version}"]
    authorization = (
        f'X-Matrix origin="{origin}",destination="{destination}",'
        f'key="{key.alg}:{key.version}",sig="{signature}"'
    )
    http = urllib.request.Request(
        f"https://{destination}{uri}",
        data=json.dumps(transaction).encode(),
        method="PUT",
        headers={"Authorization": authorization, "Content-Type": "application/json"},
    )
    # The test homeservers' certificates are self-signed.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(http, context=context, timeout=30) as response:
            answer = {"status": response.status, "body": json.load(response)}
    except urllib.error.HTTPError as error:
        answer = {"status": error.code, "body": error.read().decode(errors="replace")}
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
