/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > default policy: ipset 1`] = `
create vpsfw-ban4 hash:ip family inet timeout 3600 maxelem 1048576 -exist
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
*filter
:VPSFW-INPUT - [0:0]
:VPSFW-ESTABLISHED - [0:0]
:VPSFW-OUTPUT - [0:0]
-A VPSFW-INPUT -p tcp -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with tcp-reset
-A VPSFW-INPUT -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with icmp-port-unreachable
-A VPSFW-INPUT -i lo -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "vpsfw: fast path" -g VPSFW-ESTABLISHED
-A VPSFW-INPUT -m conntrack --ctstate INVALID -j DROP
-A VPSFW-INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment "vpsfw: new TCP must start with SYN" -j DROP
-A VPSFW-INPUT -m set --match-set vpsfw-ban4 src -m comment --comment "vpsfw: banned" -j DROP
-A VPSFW-INPUT -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 0 --queue-bypass
-A VPSFW-ESTABLISHED -m set --match-set vpsfw-ban4 src -m comment --comment "vpsfw: banned, established" -j DROP
-A VPSFW-ESTABLISHED -p icmp -m icmp --icmp-type 8 -m comment --comment "vpsfw: echo requests are always judged" -j NFQUEUE --queue-num 0 --queue-bypass
COMMIT

`

exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > default policy: ipv6 1`] = `
# vpsfw: IPv6, queue 0, fail-open
*filter
:VPSFW-INPUT - [0:0]
:VPSFW-ESTABLISHED - [0:0]
:VPSFW-OUTPUT - [0:0]
-A VPSFW-INPUT -p tcp -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with tcp-reset
-A VPSFW-INPUT -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with icmp6-port-unreachable
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
-A VPSFW-INPUT -m conntrack --ctstate INVALID -j DROP
-A VPSFW-INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment "vpsfw: new TCP must start with SYN" -j DROP
-A VPSFW-INPUT -m set --match-set vpsfw-ban6 src -m comment --comment "vpsfw: banned" -j DROP
-A VPSFW-INPUT -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 0 --queue-bypass
-A VPSFW-ESTABLISHED -m set --match-set vpsfw-ban6 src -m comment --comment "vpsfw: banned, established" -j DROP
-A VPSFW-ESTABLISHED -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m comment --comment "vpsfw: echo requests are always judged" -j NFQUEUE --queue-num 0 --queue-bypass
COMMIT

`

exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > every feature, fail-closed: ipset 1`] = `
create vpsfw-ban4 hash:ip family inet timeout 3600 maxelem 1048576 -exist
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
*filter
:VPSFW-INPUT - [0:0]
:VPSFW-ESTABLISHED - [0:0]
:VPSFW-OUTPUT - [0:0]
-A VPSFW-INPUT -p tcp -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with tcp-reset
-A VPSFW-INPUT -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with icmp-port-unreachable
-A VPSFW-INPUT -i lo -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "vpsfw: fast path" -g VPSFW-ESTABLISHED
-A VPSFW-INPUT -m set --match-set vpsfw-allow4 src -m comment --comment "vpsfw: allowlist" -j RETURN
-A VPSFW-INPUT -m conntrack --ctstate INVALID -j DROP
-A VPSFW-INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment "vpsfw: new TCP must start with SYN" -j DROP
-A VPSFW-INPUT -m set --match-set vpsfw-ban4 src -m comment --comment "vpsfw: banned" -j DROP
-A VPSFW-INPUT -m set --match-set vpsfw-deny4 src -m comment --comment "vpsfw: denied network" -j DROP
-A VPSFW-INPUT -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 7
-A VPSFW-ESTABLISHED -m set --match-set vpsfw-ban4 src -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: banned, established" -j DROP
-A VPSFW-ESTABLISHED -m set --match-set vpsfw-deny4 src -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: denied network, established" -j DROP
-A VPSFW-ESTABLISHED -p tcp -m multiport --dports 80,8080 -m conntrack --ctstate ESTABLISHED -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: payload rule no-passwd" -j MARK --set-xmark 0x570000/0xff0000
-A VPSFW-ESTABLISHED -p udp -m multiport --dports 53 -m conntrack --ctstate ESTABLISHED -m connbytes --connbytes 0:512 --connbytes-dir original --connbytes-mode bytes -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: payload rule dns-probe" -j MARK --set-xmark 0x570000/0xff0000
-A VPSFW-ESTABLISHED -m mark --mark 0x570000/0xff0000 -m comment --comment "vpsfw: payload inspection" -j NFQUEUE --queue-num 7
-A VPSFW-ESTABLISHED -p icmp -m icmp --icmp-type 8 -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: echo requests are always judged" -j NFQUEUE --queue-num 7
-A VPSFW-OUTPUT -p tcp -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with tcp-reset
-A VPSFW-OUTPUT -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with icmp-port-unreachable
-A VPSFW-OUTPUT -o lo -j RETURN
-A VPSFW-OUTPUT -p tcp -m multiport --dports 443 -m conntrack --ctstate ESTABLISHED -m comment --comment "vpsfw: payload rule exfil" -j MARK --set-xmark 0x570000/0xff0000
-A VPSFW-OUTPUT -m mark --mark 0x570000/0xff0000 -m comment --comment "vpsfw: payload inspection" -j NFQUEUE --queue-num 7
-A VPSFW-OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
-A VPSFW-OUTPUT -m conntrack --ctstate NEW -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 7
COMMIT

`

exports[`tests/unit/kernel/render.test.ts > TAP > snapshots > every feature, fail-closed: ipv6 1`] = `
# vpsfw: IPv6, queue 7, fail-closed
*filter
:VPSFW-INPUT - [0:0]
:VPSFW-ESTABLISHED - [0:0]
:VPSFW-OUTPUT - [0:0]
-A VPSFW-INPUT -p tcp -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with tcp-reset
-A VPSFW-INPUT -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with icmp6-port-unreachable
-A VPSFW-INPUT -i lo -j RETURN
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
-A VPSFW-INPUT -m conntrack --ctstate INVALID -j DROP
-A VPSFW-INPUT -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment "vpsfw: new TCP must start with SYN" -j DROP
-A VPSFW-INPUT -m set --match-set vpsfw-ban6 src -m comment --comment "vpsfw: banned" -j DROP
-A VPSFW-INPUT -m set --match-set vpsfw-deny6 src -m comment --comment "vpsfw: denied network" -j DROP
-A VPSFW-INPUT -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 7
-A VPSFW-ESTABLISHED -m set --match-set vpsfw-ban6 src -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: banned, established" -j DROP
-A VPSFW-ESTABLISHED -m set --match-set vpsfw-deny6 src -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: denied network, established" -j DROP
-A VPSFW-ESTABLISHED -p tcp -m multiport --dports 80,8080 -m conntrack --ctstate ESTABLISHED -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: payload rule no-passwd" -j MARK --set-xmark 0x570000/0xff0000
-A VPSFW-ESTABLISHED -p udp -m multiport --dports 53 -m conntrack --ctstate ESTABLISHED -m connbytes --connbytes 0:512 --connbytes-dir original --connbytes-mode bytes -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: payload rule dns-probe" -j MARK --set-xmark 0x570000/0xff0000
-A VPSFW-ESTABLISHED -m mark --mark 0x570000/0xff0000 -m comment --comment "vpsfw: payload inspection" -j NFQUEUE --queue-num 7
-A VPSFW-ESTABLISHED -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m set ! --match-set vpsfw-allow6 src -m comment --comment "vpsfw: echo requests are always judged" -j NFQUEUE --queue-num 7
-A VPSFW-OUTPUT -p tcp -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with tcp-reset
-A VPSFW-OUTPUT -m mark --mark 0x560000/0xff0000 -m comment --comment "vpsfw: agent verdict reject" -j REJECT --reject-with icmp6-port-unreachable
-A VPSFW-OUTPUT -o lo -j RETURN
-A VPSFW-OUTPUT -p tcp -m multiport --dports 443 -m conntrack --ctstate ESTABLISHED -m comment --comment "vpsfw: payload rule exfil" -j MARK --set-xmark 0x570000/0xff0000
-A VPSFW-OUTPUT -m mark --mark 0x570000/0xff0000 -m comment --comment "vpsfw: payload inspection" -j NFQUEUE --queue-num 7
-A VPSFW-OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
-A VPSFW-OUTPUT -m conntrack --ctstate NEW -m comment --comment "vpsfw: judged by the agent" -j NFQUEUE --queue-num 7
COMMIT

`
