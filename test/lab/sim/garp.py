#!/usr/bin/python3
"""kblab: gratuitous ARP for ADDRESS from IFACE's MAC, broadcast, as kube-vip
sends when it takes the VIP and then every vip_arpRate while it leads (so
neighbours update their caches). Its form is kube-vip's (pkg/vip/arp.go,
gratuitousARP, after RFC 5944 section 4.6): sender and target protocol
address are both the VIP; a reply also carries the MAC as the target hardware
address, which is what Linux requires to treat a reply as gratuitous and
apply it even inside the neighbour entry's locktime (net/ipv4/arp.c,
arp_is_garp: "Gratuitous ARP _replies_ also require target hwaddr to be the
same as source"); a request carries the broadcast address there.
Usage: garp.py IFACE ADDRESS request|reply"""
import socket
import sys

iface, address, kind = sys.argv[1], sys.argv[2], sys.argv[3]
with open(f"/sys/class/net/{iface}/address") as f:
    mac = bytes.fromhex(f.read().strip().replace(":", ""))
ip = socket.inet_aton(address)
broadcast = b"\xff" * 6
opcode, target_mac = (b"\x00\x01", broadcast) if kind == "request" else (b"\x00\x02", mac)
# Ethernet (ARP), then ARP: Ethernet/IPv4, the opcode, sender = target = the VIP
frame = broadcast + mac + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04" + opcode + mac + ip + target_mac + ip
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
s.send(frame)
s.close()
