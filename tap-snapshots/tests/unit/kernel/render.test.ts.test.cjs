/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > default policy: ipset 1`] = `
create vpsfw-ban4 hash:ip family inet timeout 3600 maxelem 1048576 -exist
create vpsfw-bannet4 hash:net family inet timeout 3600 maxelem 1048576 -exist
create vpsfw-deny4 hash:net family inet maxelem 1048576 -exist
create vpsfw-deny4-new hash:net family inet maxelem 1048576 -exist
flush vpsfw-deny4-new
swap vpsfw-deny4-new vpsfw-deny4
destroy vpsfw-deny4-new
create vpsfw-allow4 hash:net family inet maxelem 1048576 -exist
create vpsfw-allow4-new hash:net family inet maxelem 1048576 -exist
flush vpsfw-allow4-new
add vpsfw-allow4-new 127.0.0.0/8 -exist
swap vpsfw-allow4-new vpsfw-allow4
destroy vpsfw-allow4-new
create vpsfw-ban6 hash:ip family inet6 timeout 3600 maxelem 1048576 -exist
create vpsfw-bannet6 hash:net family inet6 timeout 3600 maxelem 1048576 -exist
create vpsfw-deny6 hash:net family inet6 maxelem 1048576 -exist
create vpsfw-deny6-new hash:net family inet6 maxelem 1048576 -exist
flush vpsfw-deny6-new
swap vpsfw-deny6-new vpsfw-deny6
destroy vpsfw-deny6-new
create vpsfw-allow6 hash:net family inet6 maxelem 1048576 -exist
create vpsfw-allow6-new hash:net family inet6 maxelem 1048576 -exist
flush vpsfw-allow6-new
add vpsfw-allow6-new ::1/128 -exist
swap vpsfw-allow6-new vpsfw-allow6
destroy vpsfw-allow6-new

`

exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > default policy: ipv4 1`] = `
# vpsfw: IPv4, queue 0, fail-open
*raw
:VPSFW-RAW - [0:0]
-A VPSFW-RAW -i lo -j RETURN
-A VPSFW-RAW -m set --match-set vpsfw-ban4 src -m comment --comment "vpsfw: banned" -j DROP
-A VPSFW-RAW -m set --match-set vpsfw-bannet4 src -m comment --comment "vpsfw: banned network" -j DROP
COMMIT
*mangle
:VPSFW-INPUT - [0:0]
:VPSFW-ESTABLISHED - [0:0]
:VPSFW-JUDGE - [0:0]
:VPSFW-QUEUE - [0:0]
:VPSFW-REFUSE-DROP - [0:0]
:VPSFW-REFUSE-REJECT - [0:0]
:VPSFW-OBSERVE - [0:0]
:VPSFW-PASS - [0:0]
:VPSFW-DONE-IN - [0:0]
:VPSFW-OUTPUT - [0:0]
:VPSFW-OUT-ESTABLISHED - [0:0]
:VPSFW-OUT-JUDGE - [0:0]
:VPSFW-OUT-REJECT - [0:0]
:VPSFW-DONE-OUT - [0:0]
-A VPSFW-INPUT -m mark --mark 0x3000000/0xf000000 -g VPSFW-PASS
-A VPSFW-INPUT -m mark --mark 0x4000000/0xf000000 -g VPSFW-DONE-IN
-A VPSFW-INPUT -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: to be rejected in filter" -j RETURN
-A VPSFW-INPUT -m mark --mark 0x5000000/0xf000000 -j RETURN
-A VPSFW-INPUT -i lo -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "vpsfw: fast path" -g VPSFW-ESTABLISHED
-A VPSFW-INPUT -m conntrack --ctstate INVALID -m comment --comment "vpsfw: invalid" -j DROP
-A VPSFW-INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment "vpsfw: new TCP must start with SYN" -j DROP
-A VPSFW-INPUT -p tcp -m multiport --dports 22 -m comment --comment "vpsfw: rule ssh" -g VPSFW-JUDGE
-A VPSFW-INPUT -p udp -m multiport --dports 68 -m comment --comment "vpsfw: rule dhcp-client" -g VPSFW-JUDGE
-A VPSFW-INPUT -p udp -m multiport --dports 546 -m comment --comment "vpsfw: rule dhcpv6-client" -g VPSFW-JUDGE
-A VPSFW-INPUT -p icmp -m comment --comment "vpsfw: rule ping" -g VPSFW-JUDGE
-A VPSFW-INPUT -m comment --comment "vpsfw: default inbound" -g VPSFW-REFUSE-DROP
-A VPSFW-JUDGE -p tcp -m multiport --dports 22 -m comment --comment "vpsfw: judged by rate limit ssh-connections" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p tcp --syn -m comment --comment "vpsfw: judged by synFlood" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p icmp -m icmp --icmp-type 8 -m comment --comment "vpsfw: judged by icmpFlood, oversizedIcmp" -g VPSFW-QUEUE
-A VPSFW-QUEUE -m hashlimit --hashlimit-above 1000/sec --hashlimit-burst 2000 --hashlimit-mode srcip --hashlimit-name vq4-1000-2000 -m comment --comment "vpsfw: one source cannot fill the queue" -j DROP
-A VPSFW-QUEUE -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 0 --queue-bypass
-A VPSFW-OBSERVE -p tcp -m hashlimit --hashlimit-upto 1000/sec --hashlimit-burst 2000 --hashlimit-mode srcip --hashlimit-name vo4-1000-2000 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 100 --nflog-size 192
-A VPSFW-OBSERVE -p udp -m hashlimit --hashlimit-upto 1000/sec --hashlimit-burst 2000 --hashlimit-mode srcip --hashlimit-name vo4-1000-2000 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 100 --nflog-size 192
-A VPSFW-OBSERVE -p icmp -m icmp --icmp-type 8 -m hashlimit --hashlimit-upto 1000/sec --hashlimit-burst 2000 --hashlimit-mode srcip --hashlimit-name vo4-1000-2000 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 100 --nflog-size 192
-A VPSFW-REFUSE-DROP -j VPSFW-OBSERVE
-A VPSFW-REFUSE-REJECT -j VPSFW-OBSERVE
-A VPSFW-REFUSE-DROP -j DROP
-A VPSFW-REFUSE-REJECT -j MARK --set-xmark 0x1000000/0xf000000
-A VPSFW-PASS -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-DONE-IN -j CONNMARK --set-xmark 0x10000000/0x10000000
-A VPSFW-DONE-IN -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-ESTABLISHED -p icmp -m icmp --icmp-type 8 -m comment --comment "vpsfw: echo requests are always judged" -g VPSFW-QUEUE
COMMIT
*filter
:VPSFW-REJECT - [0:0]
-A VPSFW-REJECT -p tcp -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: rejected" -j REJECT --reject-with tcp-reset
-A VPSFW-REJECT -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: rejected" -j REJECT --reject-with icmp-port-unreachable
COMMIT

`

exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > default policy: ipv6 1`] = `
# vpsfw: IPv6, queue 0, fail-open
*raw
:VPSFW-RAW - [0:0]
-A VPSFW-RAW -i lo -j RETURN
-A VPSFW-RAW -p ipv6-icmp -m icmp6 --icmpv6-type 133 -j RETURN
-A VPSFW-RAW -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j RETURN
-A VPSFW-RAW -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN
-A VPSFW-RAW -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j RETURN
-A VPSFW-RAW -m set --match-set vpsfw-ban6 src -m comment --comment "vpsfw: banned" -j DROP
-A VPSFW-RAW -m set --match-set vpsfw-bannet6 src -m comment --comment "vpsfw: banned network" -j DROP
COMMIT
*mangle
:VPSFW-INPUT - [0:0]
:VPSFW-ESTABLISHED - [0:0]
:VPSFW-JUDGE - [0:0]
:VPSFW-QUEUE - [0:0]
:VPSFW-REFUSE-DROP - [0:0]
:VPSFW-REFUSE-REJECT - [0:0]
:VPSFW-OBSERVE - [0:0]
:VPSFW-PASS - [0:0]
:VPSFW-DONE-IN - [0:0]
:VPSFW-OUTPUT - [0:0]
:VPSFW-OUT-ESTABLISHED - [0:0]
:VPSFW-OUT-JUDGE - [0:0]
:VPSFW-OUT-REJECT - [0:0]
:VPSFW-DONE-OUT - [0:0]
-A VPSFW-INPUT -m mark --mark 0x3000000/0xf000000 -g VPSFW-PASS
-A VPSFW-INPUT -m mark --mark 0x4000000/0xf000000 -g VPSFW-DONE-IN
-A VPSFW-INPUT -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: to be rejected in filter" -j RETURN
-A VPSFW-INPUT -m mark --mark 0x5000000/0xf000000 -j RETURN
-A VPSFW-INPUT -i lo -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "vpsfw: fast path" -g VPSFW-ESTABLISHED
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 131 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 132 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 133 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 137 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 143 -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate INVALID -m comment --comment "vpsfw: invalid" -j DROP
-A VPSFW-INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment "vpsfw: new TCP must start with SYN" -j DROP
-A VPSFW-INPUT -s ::/128 -m comment --comment "vpsfw: unspecified source" -j DROP
-A VPSFW-INPUT -p tcp -m multiport --dports 22 -m comment --comment "vpsfw: rule ssh" -g VPSFW-JUDGE
-A VPSFW-INPUT -p udp -m multiport --dports 68 -m comment --comment "vpsfw: rule dhcp-client" -g VPSFW-JUDGE
-A VPSFW-INPUT -p udp -m multiport --dports 546 -m comment --comment "vpsfw: rule dhcpv6-client" -g VPSFW-JUDGE
-A VPSFW-INPUT -p ipv6-icmp -m comment --comment "vpsfw: rule ping6" -g VPSFW-JUDGE
-A VPSFW-INPUT -m comment --comment "vpsfw: default inbound" -g VPSFW-REFUSE-DROP
-A VPSFW-JUDGE -p tcp -m multiport --dports 22 -m comment --comment "vpsfw: judged by rate limit ssh-connections" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p tcp --syn -m comment --comment "vpsfw: judged by synFlood" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m comment --comment "vpsfw: judged by icmpFlood, oversizedIcmp" -g VPSFW-QUEUE
-A VPSFW-QUEUE -m hashlimit --hashlimit-above 1000/sec --hashlimit-burst 2000 --hashlimit-mode srcip --hashlimit-name vq6-1000-2000 -m comment --comment "vpsfw: one source cannot fill the queue" -j DROP
-A VPSFW-QUEUE -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 0 --queue-bypass
-A VPSFW-OBSERVE -p tcp -m hashlimit --hashlimit-upto 1000/sec --hashlimit-burst 2000 --hashlimit-mode srcip --hashlimit-name vo6-1000-2000 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 100 --nflog-size 192
-A VPSFW-OBSERVE -p udp -m hashlimit --hashlimit-upto 1000/sec --hashlimit-burst 2000 --hashlimit-mode srcip --hashlimit-name vo6-1000-2000 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 100 --nflog-size 192
-A VPSFW-OBSERVE -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m hashlimit --hashlimit-upto 1000/sec --hashlimit-burst 2000 --hashlimit-mode srcip --hashlimit-name vo6-1000-2000 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 100 --nflog-size 192
-A VPSFW-REFUSE-DROP -j VPSFW-OBSERVE
-A VPSFW-REFUSE-REJECT -j VPSFW-OBSERVE
-A VPSFW-REFUSE-DROP -j DROP
-A VPSFW-REFUSE-REJECT -j MARK --set-xmark 0x1000000/0xf000000
-A VPSFW-PASS -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-DONE-IN -j CONNMARK --set-xmark 0x10000000/0x10000000
-A VPSFW-DONE-IN -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-ESTABLISHED -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m comment --comment "vpsfw: echo requests are always judged" -g VPSFW-QUEUE
COMMIT
*filter
:VPSFW-REJECT - [0:0]
-A VPSFW-REJECT -p tcp -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: rejected" -j REJECT --reject-with tcp-reset
-A VPSFW-REJECT -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: rejected" -j REJECT --reject-with icmp6-port-unreachable
COMMIT

`

exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > every feature, fail-closed: ipset 1`] = `
create vpsfw-ban4 hash:ip family inet timeout 3600 maxelem 1048576 -exist
create vpsfw-bannet4 hash:net family inet timeout 3600 maxelem 1048576 -exist
create vpsfw-deny4 hash:net family inet maxelem 1048576 -exist
create vpsfw-deny4-new hash:net family inet maxelem 1048576 -exist
flush vpsfw-deny4-new
add vpsfw-deny4-new 203.0.113.0/24 -exist
add vpsfw-deny4-new 198.51.100.7/32 -exist
swap vpsfw-deny4-new vpsfw-deny4
destroy vpsfw-deny4-new
create vpsfw-allow4 hash:net family inet maxelem 1048576 -exist
create vpsfw-allow4-new hash:net family inet maxelem 1048576 -exist
flush vpsfw-allow4-new
add vpsfw-allow4-new 127.0.0.0/8 -exist
add vpsfw-allow4-new 198.51.100.0/24 -exist
swap vpsfw-allow4-new vpsfw-allow4
destroy vpsfw-allow4-new
create vpsfw-ban6 hash:ip family inet6 timeout 3600 maxelem 1048576 -exist
create vpsfw-bannet6 hash:net family inet6 timeout 3600 maxelem 1048576 -exist
create vpsfw-deny6 hash:net family inet6 maxelem 1048576 -exist
create vpsfw-deny6-new hash:net family inet6 maxelem 1048576 -exist
flush vpsfw-deny6-new
add vpsfw-deny6-new 2001:db8:bad::/48 -exist
swap vpsfw-deny6-new vpsfw-deny6
destroy vpsfw-deny6-new
create vpsfw-allow6 hash:net family inet6 maxelem 1048576 -exist
create vpsfw-allow6-new hash:net family inet6 maxelem 1048576 -exist
flush vpsfw-allow6-new
add vpsfw-allow6-new ::1/128 -exist
add vpsfw-allow6-new 2001:db8:2::/64 -exist
swap vpsfw-allow6-new vpsfw-allow6
destroy vpsfw-allow6-new

`

exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > every feature, fail-closed: ipv4 1`] = `
# vpsfw: IPv4, queue 7, fail-closed
*raw
:VPSFW-RAW - [0:0]
-A VPSFW-RAW -i lo -j RETURN
-A VPSFW-RAW -m set --match-set vpsfw-ban4 src -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: banned" -j DROP
-A VPSFW-RAW -m set --match-set vpsfw-bannet4 src -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: banned network" -j DROP
-A VPSFW-RAW -m set --match-set vpsfw-deny4 src -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: denied network" -j DROP
COMMIT
*mangle
:VPSFW-INPUT - [0:0]
:VPSFW-ESTABLISHED - [0:0]
:VPSFW-JUDGE - [0:0]
:VPSFW-QUEUE - [0:0]
:VPSFW-REFUSE-DROP - [0:0]
:VPSFW-REFUSE-REJECT - [0:0]
:VPSFW-OBSERVE - [0:0]
:VPSFW-PASS - [0:0]
:VPSFW-DONE-IN - [0:0]
:VPSFW-OUTPUT - [0:0]
:VPSFW-OUT-ESTABLISHED - [0:0]
:VPSFW-OUT-JUDGE - [0:0]
:VPSFW-OUT-REJECT - [0:0]
:VPSFW-DONE-OUT - [0:0]
-A VPSFW-INPUT -m mark --mark 0x3000000/0xf000000 -g VPSFW-PASS
-A VPSFW-INPUT -m mark --mark 0x4000000/0xf000000 -g VPSFW-DONE-IN
-A VPSFW-INPUT -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: to be rejected in filter" -j RETURN
-A VPSFW-INPUT -m mark --mark 0x5000000/0xf000000 -j RETURN
-A VPSFW-INPUT -i lo -j RETURN
-A VPSFW-INPUT -i wg0 -m comment --comment "vpsfw: trusted interface" -j RETURN
-A VPSFW-INPUT -i tailscale+ -m comment --comment "vpsfw: trusted interface" -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "vpsfw: fast path" -g VPSFW-ESTABLISHED
-A VPSFW-INPUT -m set --match-set vpsfw-allow4 src -m comment --comment "vpsfw: allowlist" -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate INVALID -m comment --comment "vpsfw: invalid" -j DROP
-A VPSFW-INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment "vpsfw: new TCP must start with SYN" -j DROP
-A VPSFW-INPUT -p tcp -s 192.0.2.0/24 -m multiport --dports 22 -m comment --comment "vpsfw: rule ssh-admins" -g VPSFW-JUDGE
-A VPSFW-INPUT -p tcp -m multiport --dports 80,443,8000:8100 -m comment --comment "vpsfw: rule web" -g VPSFW-JUDGE
-A VPSFW-INPUT -p udp -i eth1 -m multiport --dports 53 -m comment --comment "vpsfw: rule dns-lan" -g VPSFW-JUDGE
-A VPSFW-INPUT -p tcp -m multiport --dports 113 -m comment --comment "vpsfw: rule ident" -g VPSFW-REFUSE-REJECT
-A VPSFW-INPUT -m comment --comment "vpsfw: default inbound" -g VPSFW-REFUSE-DROP
-A VPSFW-JUDGE -p tcp -m multiport --dports 80,443 -m comment --comment "vpsfw: judged by rate limit web-conns" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p tcp -m multiport --dports 80,8080 -m comment --comment "vpsfw: judged by payload rule no-passwd" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p udp -m multiport --dports 53 -m comment --comment "vpsfw: judged by payload rule dns-probe" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p tcp --syn -m comment --comment "vpsfw: judged by synFlood" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p icmp -m icmp --icmp-type 8 -m comment --comment "vpsfw: judged by icmpFlood, oversizedIcmp" -g VPSFW-QUEUE
-A VPSFW-QUEUE -m hashlimit --hashlimit-above 300/sec --hashlimit-burst 600 --hashlimit-mode srcip --hashlimit-name vq4-300-600 -m comment --comment "vpsfw: one source cannot fill the queue" -j DROP
-A VPSFW-QUEUE -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 7
-A VPSFW-OBSERVE -p tcp -m hashlimit --hashlimit-upto 300/sec --hashlimit-burst 600 --hashlimit-mode srcip --hashlimit-name vo4-300-600 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 9 --nflog-size 192
-A VPSFW-OBSERVE -p udp -m hashlimit --hashlimit-upto 300/sec --hashlimit-burst 600 --hashlimit-mode srcip --hashlimit-name vo4-300-600 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 9 --nflog-size 192
-A VPSFW-OBSERVE -p icmp -m icmp --icmp-type 8 -m hashlimit --hashlimit-upto 300/sec --hashlimit-burst 600 --hashlimit-mode srcip --hashlimit-name vo4-300-600 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 9 --nflog-size 192
-A VPSFW-REFUSE-DROP -j VPSFW-OBSERVE
-A VPSFW-REFUSE-REJECT -j VPSFW-OBSERVE
-A VPSFW-REFUSE-DROP -j DROP
-A VPSFW-REFUSE-REJECT -j MARK --set-xmark 0x1000000/0xf000000
-A VPSFW-PASS -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-DONE-IN -j CONNMARK --set-xmark 0x10000000/0x10000000
-A VPSFW-DONE-IN -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-ESTABLISHED -p icmp -m icmp --icmp-type 8 -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: echo requests are always judged" -g VPSFW-QUEUE
-A VPSFW-ESTABLISHED -m connmark --mark 0x10000000/0x10000000 -m comment --comment "vpsfw: inspected enough" -j RETURN
-A VPSFW-ESTABLISHED -p tcp -m multiport --dports 80,8080 -m conntrack --ctstate ESTABLISHED -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: payload rule no-passwd" -j MARK --set-xmark 0x2000000/0xf000000
-A VPSFW-ESTABLISHED -p udp -m multiport --dports 53 -m conntrack --ctstate ESTABLISHED -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: payload rule dns-probe" -j MARK --set-xmark 0x2000000/0xf000000
-A VPSFW-ESTABLISHED -m mark --mark 0x2000000/0xf000000 -m comment --comment "vpsfw: payload inspection" -j NFQUEUE --queue-num 7
-A VPSFW-OUTPUT -m mark --mark 0x3000000/0xf000000 -g VPSFW-PASS
-A VPSFW-OUTPUT -m mark --mark 0x4000000/0xf000000 -g VPSFW-DONE-OUT
-A VPSFW-OUTPUT -m mark --mark 0x1000000/0xf000000 -j RETURN
-A VPSFW-OUTPUT -m mark --mark 0x5000000/0xf000000 -j RETURN
-A VPSFW-OUTPUT -o lo -j RETURN
-A VPSFW-OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -g VPSFW-OUT-ESTABLISHED
-A VPSFW-OUTPUT -m conntrack ! --ctstate NEW -j RETURN
-A VPSFW-OUTPUT -p tcp -m multiport --dports 25 -m comment --comment "vpsfw: rule smtp-out" -g VPSFW-OUT-REJECT
-A VPSFW-OUTPUT -m comment --comment "vpsfw: default outbound" -g VPSFW-OUT-JUDGE
-A VPSFW-OUT-JUDGE -p tcp -m multiport --sports 2222 -m comment --comment "vpsfw: judged by payload rule leak" -j NFQUEUE --queue-num 7
-A VPSFW-OUT-JUDGE -p tcp -m multiport --dports 443 -m comment --comment "vpsfw: judged by payload rule exfil" -j NFQUEUE --queue-num 7
-A VPSFW-OUT-REJECT -j MARK --set-xmark 0x1000000/0xf000000
-A VPSFW-DONE-OUT -j CONNMARK --set-xmark 0x20000000/0x20000000
-A VPSFW-DONE-OUT -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-OUT-ESTABLISHED -m connmark --mark 0x20000000/0x20000000 -m comment --comment "vpsfw: inspected enough" -j RETURN
-A VPSFW-OUT-ESTABLISHED -p tcp -m multiport --sports 2222 -m conntrack --ctstate ESTABLISHED -m comment --comment "vpsfw: payload rule leak" -j MARK --set-xmark 0x2000000/0xf000000
-A VPSFW-OUT-ESTABLISHED -p tcp -m multiport --dports 443 -m conntrack --ctstate ESTABLISHED -m comment --comment "vpsfw: payload rule exfil" -j MARK --set-xmark 0x2000000/0xf000000
-A VPSFW-OUT-ESTABLISHED -m mark --mark 0x2000000/0xf000000 -m comment --comment "vpsfw: payload inspection" -j NFQUEUE --queue-num 7
COMMIT
*filter
:VPSFW-REJECT - [0:0]
-A VPSFW-REJECT -p tcp -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: rejected" -j REJECT --reject-with tcp-reset
-A VPSFW-REJECT -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: rejected" -j REJECT --reject-with icmp-port-unreachable
COMMIT

`

exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > every feature, fail-closed: ipv6 1`] = `
# vpsfw: IPv6, queue 7, fail-closed
*raw
:VPSFW-RAW - [0:0]
-A VPSFW-RAW -i lo -j RETURN
-A VPSFW-RAW -p ipv6-icmp -m icmp6 --icmpv6-type 133 -j RETURN
-A VPSFW-RAW -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j RETURN
-A VPSFW-RAW -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN
-A VPSFW-RAW -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j RETURN
-A VPSFW-RAW -m set --match-set vpsfw-ban6 src -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: banned" -j DROP
-A VPSFW-RAW -m set --match-set vpsfw-bannet6 src -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: banned network" -j DROP
-A VPSFW-RAW -m set --match-set vpsfw-deny6 src -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: denied network" -j DROP
COMMIT
*mangle
:VPSFW-INPUT - [0:0]
:VPSFW-ESTABLISHED - [0:0]
:VPSFW-JUDGE - [0:0]
:VPSFW-QUEUE - [0:0]
:VPSFW-REFUSE-DROP - [0:0]
:VPSFW-REFUSE-REJECT - [0:0]
:VPSFW-OBSERVE - [0:0]
:VPSFW-PASS - [0:0]
:VPSFW-DONE-IN - [0:0]
:VPSFW-OUTPUT - [0:0]
:VPSFW-OUT-ESTABLISHED - [0:0]
:VPSFW-OUT-JUDGE - [0:0]
:VPSFW-OUT-REJECT - [0:0]
:VPSFW-DONE-OUT - [0:0]
-A VPSFW-INPUT -m mark --mark 0x3000000/0xf000000 -g VPSFW-PASS
-A VPSFW-INPUT -m mark --mark 0x4000000/0xf000000 -g VPSFW-DONE-IN
-A VPSFW-INPUT -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: to be rejected in filter" -j RETURN
-A VPSFW-INPUT -m mark --mark 0x5000000/0xf000000 -j RETURN
-A VPSFW-INPUT -i lo -j RETURN
-A VPSFW-INPUT -i wg0 -m comment --comment "vpsfw: trusted interface" -j RETURN
-A VPSFW-INPUT -i tailscale+ -m comment --comment "vpsfw: trusted interface" -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "vpsfw: fast path" -g VPSFW-ESTABLISHED
-A VPSFW-INPUT -m set --match-set vpsfw-allow6 src -m comment --comment "vpsfw: allowlist" -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 131 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 132 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 133 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 137 -j RETURN
-A VPSFW-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 143 -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate INVALID -m comment --comment "vpsfw: invalid" -j DROP
-A VPSFW-INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment "vpsfw: new TCP must start with SYN" -j DROP
-A VPSFW-INPUT -s ::/128 -m comment --comment "vpsfw: unspecified source" -j DROP
-A VPSFW-INPUT -p tcp -s 2001:db8:1::/64 -m multiport --dports 22 -m comment --comment "vpsfw: rule ssh-admins" -g VPSFW-JUDGE
-A VPSFW-INPUT -p tcp -m multiport --dports 80,443,8000:8100 -m comment --comment "vpsfw: rule web" -g VPSFW-JUDGE
-A VPSFW-INPUT -p udp -i eth1 -m multiport --dports 53 -m comment --comment "vpsfw: rule dns-lan" -g VPSFW-JUDGE
-A VPSFW-INPUT -p tcp -m multiport --dports 113 -m comment --comment "vpsfw: rule ident" -g VPSFW-REFUSE-REJECT
-A VPSFW-INPUT -m comment --comment "vpsfw: default inbound" -g VPSFW-REFUSE-DROP
-A VPSFW-JUDGE -p tcp -m multiport --dports 80,443 -m comment --comment "vpsfw: judged by rate limit web-conns" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p tcp -m multiport --dports 80,8080 -m comment --comment "vpsfw: judged by payload rule no-passwd" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p udp -m multiport --dports 53 -m comment --comment "vpsfw: judged by payload rule dns-probe" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p tcp --syn -m comment --comment "vpsfw: judged by synFlood" -g VPSFW-QUEUE
-A VPSFW-JUDGE -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m comment --comment "vpsfw: judged by icmpFlood, oversizedIcmp" -g VPSFW-QUEUE
-A VPSFW-QUEUE -m hashlimit --hashlimit-above 300/sec --hashlimit-burst 600 --hashlimit-mode srcip --hashlimit-name vq6-300-600 -m comment --comment "vpsfw: one source cannot fill the queue" -j DROP
-A VPSFW-QUEUE -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 7
-A VPSFW-OBSERVE -p tcp -m hashlimit --hashlimit-upto 300/sec --hashlimit-burst 600 --hashlimit-mode srcip --hashlimit-name vo6-300-600 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 9 --nflog-size 192
-A VPSFW-OBSERVE -p udp -m hashlimit --hashlimit-upto 300/sec --hashlimit-burst 600 --hashlimit-mode srcip --hashlimit-name vo6-300-600 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 9 --nflog-size 192
-A VPSFW-OBSERVE -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m hashlimit --hashlimit-upto 300/sec --hashlimit-burst 600 --hashlimit-mode srcip --hashlimit-name vo6-300-600 -m comment --comment "vpsfw: shown to the detectors" -j NFLOG --nflog-group 9 --nflog-size 192
-A VPSFW-REFUSE-DROP -j VPSFW-OBSERVE
-A VPSFW-REFUSE-REJECT -j VPSFW-OBSERVE
-A VPSFW-REFUSE-DROP -j DROP
-A VPSFW-REFUSE-REJECT -j MARK --set-xmark 0x1000000/0xf000000
-A VPSFW-PASS -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-DONE-IN -j CONNMARK --set-xmark 0x10000000/0x10000000
-A VPSFW-DONE-IN -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-ESTABLISHED -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: echo requests are always judged" -g VPSFW-QUEUE
-A VPSFW-ESTABLISHED -m connmark --mark 0x10000000/0x10000000 -m comment --comment "vpsfw: inspected enough" -j RETURN
-A VPSFW-ESTABLISHED -p tcp -m multiport --dports 80,8080 -m conntrack --ctstate ESTABLISHED -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: payload rule no-passwd" -j MARK --set-xmark 0x2000000/0xf000000
-A VPSFW-ESTABLISHED -p udp -m multiport --dports 53 -m conntrack --ctstate ESTABLISHED -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: payload rule dns-probe" -j MARK --set-xmark 0x2000000/0xf000000
-A VPSFW-ESTABLISHED -m mark --mark 0x2000000/0xf000000 -m comment --comment "vpsfw: payload inspection" -j NFQUEUE --queue-num 7
-A VPSFW-OUTPUT -m mark --mark 0x3000000/0xf000000 -g VPSFW-PASS
-A VPSFW-OUTPUT -m mark --mark 0x4000000/0xf000000 -g VPSFW-DONE-OUT
-A VPSFW-OUTPUT -m mark --mark 0x1000000/0xf000000 -j RETURN
-A VPSFW-OUTPUT -m mark --mark 0x5000000/0xf000000 -j RETURN
-A VPSFW-OUTPUT -o lo -j RETURN
-A VPSFW-OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -g VPSFW-OUT-ESTABLISHED
-A VPSFW-OUTPUT -m conntrack ! --ctstate NEW -j RETURN
-A VPSFW-OUTPUT -p tcp -m multiport --dports 25 -m comment --comment "vpsfw: rule smtp-out" -g VPSFW-OUT-REJECT
-A VPSFW-OUTPUT -m comment --comment "vpsfw: default outbound" -g VPSFW-OUT-JUDGE
-A VPSFW-OUT-JUDGE -p tcp -m multiport --sports 2222 -m comment --comment "vpsfw: judged by payload rule leak" -j NFQUEUE --queue-num 7
-A VPSFW-OUT-JUDGE -p tcp -m multiport --dports 443 -m comment --comment "vpsfw: judged by payload rule exfil" -j NFQUEUE --queue-num 7
-A VPSFW-OUT-REJECT -j MARK --set-xmark 0x1000000/0xf000000
-A VPSFW-DONE-OUT -j CONNMARK --set-xmark 0x20000000/0x20000000
-A VPSFW-DONE-OUT -j MARK --set-xmark 0x0/0xf000000
-A VPSFW-OUT-ESTABLISHED -m connmark --mark 0x20000000/0x20000000 -m comment --comment "vpsfw: inspected enough" -j RETURN
-A VPSFW-OUT-ESTABLISHED -p tcp -m multiport --sports 2222 -m conntrack --ctstate ESTABLISHED -m comment --comment "vpsfw: payload rule leak" -j MARK --set-xmark 0x2000000/0xf000000
-A VPSFW-OUT-ESTABLISHED -p tcp -m multiport --dports 443 -m conntrack --ctstate ESTABLISHED -m comment --comment "vpsfw: payload rule exfil" -j MARK --set-xmark 0x2000000/0xf000000
-A VPSFW-OUT-ESTABLISHED -m mark --mark 0x2000000/0xf000000 -m comment --comment "vpsfw: payload inspection" -j NFQUEUE --queue-num 7
COMMIT
*filter
:VPSFW-REJECT - [0:0]
-A VPSFW-REJECT -p tcp -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: rejected" -j REJECT --reject-with tcp-reset
-A VPSFW-REJECT -m mark --mark 0x1000000/0xf000000 -m comment --comment "vpsfw: rejected" -j REJECT --reject-with icmp6-port-unreachable
COMMIT

`
