#!/usr/bin/python3
"""kblab: a gratuitous ARP reply for ADDRESS from IFACE's MAC, broadcast once,
as kube-vip sends when it takes the VIP (so neighbours update their caches).
Usage: garp.py IFACE ADDRESS"""
import socket
import sys

iface, address = sys.argv[1], sys.argv[2]
with open(f"/sys/class/net/{iface}/address") as f:
    mac = bytes.fromhex(f.read().strip().replace(":", ""))
ip = socket.inet_aton(address)
broadcast = b"\xff" * 6
# Ethernet (ARP), then ARP: Ethernet/IPv4, opcode 2 (reply), sender = target = the VIP
frame = broadcast + mac + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x02" + mac + ip + broadcast + ip
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
s.send(frame)
s.close()
