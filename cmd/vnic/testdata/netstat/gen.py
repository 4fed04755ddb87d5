import sys
mode=sys.argv[1]  # all | zero | some
n=[0]
def val(k):
    if mode=='zero': return 0
    n[0]+=1
    if mode=='some' and n[0]%3: return 0
    return n[0]*7
ip="Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates".split()
icmp="InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps".split()
udp="InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti".split()
tcp="RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors".split()
tcpext="SyncookiesSent SyncookiesRecv SyncookiesFailed TWRecycled PAWSEstab DelayedACKs DelayedACKLost ListenOverflows ListenDrops TCPRenoRecovery TCPSackRecovery TCPFastRetrans TCPTimeouts TCPLossProbes TCPDSACKRecv TCPAbortOnData TCPAbortOnClose TCPAbortOnTimeout TCPDeferAcceptDrop IPReversePathFilter TCPReqQFullDoCookies TCPOFOQueue TCPChallengeACK TCPSYNChallenge TCPToZeroWindowAdv TCPSynRetrans TCPHystartDelayDetect TCPZeroWindowDrop".split()
ipext="InNoRoutes InTruncatedPkts InMcastPkts InBcastPkts InCsumErrors ReasmOverlaps".split()
vals={}
snmp=[]
def sec(title,keys,out):
    vs=[]
    for k in keys:
        if title=="Ip" and k=="Forwarding": v=1 if mode!='zero' else 2
        elif title=="Ip" and k=="DefaultTTL": v=64
        elif title=="Tcp" and k=="RtoAlgorithm": v=1
        elif title=="Tcp" and k=="RtoMin": v=200
        elif title=="Tcp" and k=="RtoMax": v=120000
        elif title=="Tcp" and k=="MaxConn": v=-1
        else: v=val(k)
        vals[title+k]=v; vs.append(str(v))
    out.append(title+": "+" ".join(keys)); out.append(title+": "+" ".join(vs))
sec("Ip",ip,snmp); sec("Icmp",icmp,snmp)
# IcmpMsg from Icmp histogram values
typ={"DestUnreachs":3,"TimeExcds":11,"ParmProbs":12,"SrcQuenchs":4,"Redirects":5,"Echos":8,"EchoReps":0,"Timestamps":13,"TimestampReps":14,"AddrMasks":17,"AddrMaskReps":18}
msg=[]
for d in ["In","Out"]:
    for t in sorted(typ.values()):
        name=[k for k,x in typ.items() if x==t][0]
        v=vals["Icmp"+d+name]
        if v: msg.append((d+"Type%d"%t,v))
for i in range(0,len(msg),16):
    ch=msg[i:i+16]
    snmp.append("IcmpMsg: "+" ".join(k for k,_ in ch)); snmp.append("IcmpMsg: "+" ".join(str(v) for _,v in ch))
    for k,v in ch: vals["IcmpMsg"+k]=v
sec("Tcp",tcp,snmp)
sec("Udp",udp,snmp)
nets=[]
sec("TcpExt",tcpext,nets); sec("IpExt",ipext,nets)
open("snmp","w").write("\n".join(snmp)+"\n")
open("netstat","w").write("\n".join(nets)+"\n")
open("counters","w").write("\n".join("%s %d"%(k,v if v>=0 else (1<<64)+v) for k,v in vals.items())+"\n")
