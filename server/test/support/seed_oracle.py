"""Test helper: the original design's own functions behind a JSON-lines protocol.

Imports key_encrypt.derive_key and message_encrypt_and_decrypt.message_encrypt /
message_decrypt, unchanged, from the directory named by argv[1], so that the tests can ask the
original code itself to encrypt and decrypt. One request per line on stdin, one answer per line
on stdout:

  {"op": "encrypt", "passphrase": hex, "salt": hex, "text": hex}  -> {"ok": true, "frame": hex}
  {"op": "decrypt", "passphrase": hex, "salt": hex, "frame": hex} -> {"ok": true, "text": hex}
                                                                  or {"ok": false, "error": "..."}
"""
import contextlib
import io
import json
import sys

sys.path.insert(0, sys.argv[1])
import key_encrypt as kdf  # noqa: E402
import message_encrypt_and_decrypt as med  # noqa: E402

for line in sys.stdin:
    request = json.loads(line)
    key = kdf.derive_key(bytes.fromhex(request["passphrase"]), bytes.fromhex(request["salt"]))
    # Both functions print what they send and receive, as the original does: keep stdout ours.
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            if request["op"] == "encrypt":
                answer = {"ok": True, "frame": med.message_encrypt(key, bytes.fromhex(request["text"])).hex()}
            else:
                text = med.message_decrypt(key, bytes.fromhex(request["frame"]))
                answer = {"ok": True, "text": text.encode().hex()}
        except ValueError as error:
            answer = {"ok": False, "error": str(error)}
    print(json.dumps(answer), flush=True)
