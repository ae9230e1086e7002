#!/usr/bin/python3
"""Baseline for the ovsdb bench: Python's ovs.db.idl (Debian python3-openvswitch) replicating
Logical_Switch and Logical_Switch_Port (all columns). Prints one JSON line with the seconds from
creating the Idl until the initial dump is in, and the row counts.
usage: /usr/bin/python3 python_idl.py REMOTE SCHEMA_FILE"""
import json
import sys
import time

import ovs.db.idl
import ovs.poller

remote, schema_file = sys.argv[1], sys.argv[2]
helper = ovs.db.idl.SchemaHelper(schema_file)
helper.register_table("Logical_Switch")
helper.register_table("Logical_Switch_Port")
t0 = time.monotonic()
idl = ovs.db.idl.Idl(remote, helper, leader_only=False)
while True:
    idl.run()
    # has_ever_connected() turns true once the monitor reply is applied; check before blocking
    if idl.has_ever_connected():
        break
    poller = ovs.poller.Poller()
    idl.wait(poller)
    poller.block()
t1 = time.monotonic()
print(json.dumps({
    "seconds": t1 - t0,
    "switches": len(idl.tables["Logical_Switch"].rows),
    "ports": len(idl.tables["Logical_Switch_Port"].rows),
}))
idl.close()
