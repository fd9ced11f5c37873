#!/usr/bin/env python3
"""Stand-in for the official Synapse image's /start.py, for what docker/compose.yml uses.

With no argument (or `run`): Synapse on $SYNAPSE_CONFIG_PATH (/data/homeserver.yaml), as
$UID:$GID (991:991) when started as root. Any other argument is refused: the official image's
`generate` and `migrate_config` modes are not needed by Brigade's compose file.
"""

import os
import sys


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "run"
    if mode != "run":
        sys.exit(f"start.py: unknown mode {mode!r} (this stand-in only runs Synapse)")
    config = os.environ.get("SYNAPSE_CONFIG_PATH", "/data/homeserver.yaml")
    if not os.path.exists(config):
        sys.exit(f"start.py: {config} does not exist (the compose file's init step writes it)")
    if os.getuid() == 0:
        gid = int(os.environ.get("GID", "991"))
        uid = int(os.environ.get("UID", "991"))
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    args = [sys.executable, "-m", "synapse.app.homeserver", "--config-path", config]
    os.execv(sys.executable, args)


if __name__ == "__main__":
    main()
