package conntrack

import "strings"

// Commands (enum ct_command), by bit.
const (
	cmdList = iota
	cmdCreate
	cmdUpdate
	cmdDelete
	cmdGet
	cmdFlush
	cmdEvent
	cmdVersion
	cmdHelp
	expList
	expCreate
	expDelete
	expGet
	expFlush
	expEvent
	cmdCount
	expCount
	cmdStats
	expStats
	cmdAdd
	numCmd
)

// Options (enum ct_options), by bit.
const (
	optOrigSrc = iota
	optOrigDst
	optReplSrc
	optReplDst
	optProto
	optTimeout
	optStatus
	optZero
	optEventMask
	optExpSrc
	optExpDst
	optMaskSrc
	optMaskDst
	optNATRange
	optMark
	optID
	optFamily
	optSrcNAT
	optDstNAT
	optOutput
	optSecmark
	optBufferSize
	optAnyNAT
	optZone
	optLabel
	optAddLabel
	optDelLabel
	optOrigZone
	optReplZone
	numOpt
)

// optNames are optflags[]: the names generic_opt_check reports.
var optNames = [numOpt]string{"src", "dst", "reply-src", "reply-dst", "protonum", "timeout", "status",
	"zero", "event-mask", "tuple-src", "tuple-dst", "mask-src", "mask-dst", "nat-range", "mark", "id",
	"family", "src-nat", "dst-nat", "output", "secmark", "buffer-size", "any-nat", "zone", "label",
	"label-add", "label-del", "orig-zone", "reply-zone"}

// cmdOptions is commands_v_options: 0 illegal, 1 compulsory, 2
// optional, 3 decided by the address pairs (the original or the reply
// tuple's two addresses).
var cmdOptions = func() [numCmd + 1][numOpt]byte {
	var t [numCmd + 1][numOpt]byte
	row := func(s string) [numOpt]byte {
		var r [numOpt]byte
		for i, f := range strings.Fields(s) {
			r[i] = f[0] - '0'
		}
		return r
	}
	//                     s d r q p t u z e [ ] { } a m i f n g o c b j w l < > ( )
	t[cmdList] = row("2 2 2 2 2 0 2 2 0 0 0 2 2 0 2 0 2 2 2 2 2 0 2 2 2 0 0 2 2")
	t[cmdCreate] = row("3 3 3 3 1 1 2 0 0 0 0 0 0 2 2 0 0 2 2 0 0 0 0 2 0 2 0 2 2")
	t[cmdUpdate] = row("2 2 2 2 2 2 2 0 0 0 0 2 2 0 2 2 2 2 2 2 0 0 0 0 2 2 2 0 0")
	t[cmdDelete] = row("2 2 2 2 2 2 2 0 0 0 0 2 2 0 2 2 2 2 2 2 0 0 0 2 2 0 0 2 2")
	t[cmdGet] = row("3 3 3 3 1 0 0 0 0 0 0 0 0 0 0 2 0 0 0 2 0 0 0 0 2 0 0 0 0")
	t[cmdFlush] = row("0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0")
	t[cmdEvent] = row("2 2 2 2 2 0 0 0 2 0 0 2 2 0 2 0 2 2 2 2 2 2 2 2 2 0 0 2 2")
	t[cmdHelp] = row("0 0 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
	t[expList] = row("0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 0 0 2 0 0 0 0 0 0 0 0 0")
	t[expCreate] = row("1 1 2 2 1 1 2 0 0 1 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
	t[expDelete] = row("1 1 2 2 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
	t[expGet] = row("1 1 2 2 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
	t[expEvent] = row("0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 0")
	t[cmdAdd] = t[cmdCreate]
	return t
}()

// exitMsgs are exit_msg[]: the summary a command ends with.
var exitMsgs = [numCmd]string{
	cmdList:   "%d flow entries have been shown.",
	cmdCreate: "%d flow entries have been created.",
	cmdUpdate: "%d flow entries have been updated.",
	cmdDelete: "%d flow entries have been deleted.",
	cmdGet:    "%d flow entries have been shown.",
	cmdEvent:  "%d flow events have been shown.",
	expList:   "%d expectations have been shown.",
	expDelete: "%d expectations have been shown.",
	cmdAdd:    "%d flow entries have been added.",
}

// The options of conntrack 1.4.7 (original_opts), and its optstring.
var baseLongOpts = []longOpt{
	{"dump", optionalArg, 'L'}, {"create", optionalArg, 'I'}, {"add", optionalArg, 'A'},
	{"delete", optionalArg, 'D'}, {"update", optionalArg, 'U'}, {"get", optionalArg, 'G'},
	{"flush", optionalArg, 'F'}, {"event", optionalArg, 'E'}, {"counter", optionalArg, 'C'},
	{"stats", noArg, 'S'}, {"version", noArg, 'V'}, {"help", noArg, 'h'},
	{"orig-src", requiredArg, 's'}, {"src", requiredArg, 's'}, {"orig-dst", requiredArg, 'd'},
	{"dst", requiredArg, 'd'}, {"reply-src", requiredArg, 'r'}, {"reply-dst", requiredArg, 'q'},
	{"protonum", requiredArg, 'p'}, {"timeout", requiredArg, 't'}, {"status", requiredArg, 'u'},
	{"zero", noArg, 'z'}, {"event-mask", requiredArg, 'e'}, {"tuple-src", requiredArg, '['},
	{"tuple-dst", requiredArg, ']'}, {"mask-src", requiredArg, '{'}, {"mask-dst", requiredArg, '}'},
	{"nat-range", requiredArg, 'a'}, {"mark", requiredArg, 'm'}, {"secmark", requiredArg, 'c'},
	{"id", optionalArg, 'i'}, {"family", requiredArg, 'f'}, {"src-nat", optionalArg, 'n'},
	{"dst-nat", optionalArg, 'g'}, {"output", requiredArg, 'o'}, {"buffer-size", requiredArg, 'b'},
	{"any-nat", optionalArg, 'j'}, {"zone", requiredArg, 'w'}, {"label", requiredArg, 'l'},
	{"label-add", requiredArg, '<'}, {"label-del", optionalArg, '>'}, {"orig-zone", requiredArg, '('},
	{"reply-zone", requiredArg, ')'},
}

const optstring = ":L::I::U::D::G::E::F::A::hVs:d:r:q:p:t:u:e:a:z[:]:{:}:m:i:f:o:n::g::c:b:C::Sj::w:l:<:>::(:):"

// The tables a command names ([table]).
const (
	tableConntrack = iota
	tableExpect
	tableDying
	tableUnconfirmed
)

// cmd2type maps a command letter to its conntrack and expectation
// commands (-1: none).
var cmd2type = map[rune][2]int{
	'L': {cmdList, expList}, 'I': {cmdCreate, expCreate}, 'D': {cmdDelete, expDelete},
	'G': {cmdGet, expGet}, 'F': {cmdFlush, expFlush}, 'E': {cmdEvent, expEvent},
	'V': {cmdVersion, cmdVersion}, 'h': {cmdHelp, cmdHelp}, 'C': {cmdCount, expCount},
	'S': {cmdStats, expStats}, 'U': {cmdUpdate, -1}, 'A': {cmdAdd, -1},
}

// Output formats (-o), as bits.
const (
	outXML = 1 << iota
	outExtended
	outTimestamp
	outID
	outKTimestamp
	outLabels
	outSave
)

// Status bits -u names (IPS_*).
const (
	ipsExpected     = 1 << 0
	ipsSeenReply    = 1 << 1
	ipsAssured      = 1 << 2
	ipsSrcNATDone   = 1 << 7
	ipsDstNATDone   = 1 << 8
	ipsFixedTimeout = 1 << 10
	ipsOffload      = 1 << 14
	ipsHWOffload    = 1 << 15
)

// Event mask bits (-e).
const (
	eventNew = 1 << iota
	eventUpdate
	eventDestroy
	eventAll = eventNew | eventUpdate | eventDestroy
)

// parseTables are parse_array[]: -u's, -e's and -o's words.
var parseTables = [3][]struct {
	name string
	val  uint32
}{
	{{"ASSURED", ipsAssured}, {"SEEN_REPLY", ipsSeenReply}, {"UNSET", 0}, {"FIXED_TIMEOUT", ipsFixedTimeout},
		{"EXPECTED", ipsExpected}, {"OFFLOAD", ipsOffload}, {"HW_OFFLOAD", ipsHWOffload}},
	{{"ALL", eventAll}, {"NEW", eventNew}, {"UPDATES", eventUpdate}, {"DESTROY", eventDestroy}},
	{{"xml", outXML}, {"extended", outExtended}, {"timestamp", outTimestamp}, {"id", outID},
		{"ktimestamp", outKTimestamp}, {"labels", outLabels}, {"userspace", 0}, {"save", outSave}},
}

const (
	parseStatus = iota
	parseEvent
	parseOutput
)
