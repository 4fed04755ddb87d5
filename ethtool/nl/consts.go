// Package nl is the ethtool control protocol as netlink messages: the
// kernel's generic-netlink family "ethtool" (ETHTOOL_MSG_* commands and
// ETHTOOL_A_* attributes with the uapi numbers) for what Linux does over
// netlink, and a vendor family "vnic_ethtool" for what Linux still does
// with ioctls (driver info, driver statistics, EEPROM, register dump, RSS
// table, flow hashing, self-test, autonegotiation restart, permanent
// address). Serve answers requests from an ethtool.Backend; NewDevice is
// the client side, an ethtool.Device over any Transport.
//
// Message and attribute codecs are github.com/mdlayher/netlink's.
package nl

// Family names and versions.
const (
	FamilyName       = "ethtool"
	FamilyVersion    = 1
	VendorFamilyName = "vnic_ethtool"
	MonitorGroup     = "monitor"
)

// ethtool family commands, user to kernel (ETHTOOL_MSG_*).
const (
	MsgStrsetGet    = 1
	MsgLinkinfoGet  = 2
	MsgLinkmodesGet = 4
	MsgLinkmodesSet = 5
	MsgLinkstateGet = 6
	MsgDebugGet     = 7
	MsgDebugSet     = 8
	MsgFeaturesGet  = 11
	MsgFeaturesSet  = 12
	MsgRingsGet     = 15
	MsgRingsSet     = 16
	MsgChannelsGet  = 17
	MsgChannelsSet  = 18
	MsgCoalesceGet  = 19
	MsgCoalesceSet  = 20
	MsgPauseGet     = 21
	MsgPauseSet     = 22
)

// ethtool family messages, kernel to user.
const (
	MsgStrsetGetReply    = 1
	MsgLinkinfoGetReply  = 2
	MsgLinkinfoNtf       = 3
	MsgLinkmodesGetReply = 4
	MsgLinkmodesNtf      = 5
	MsgLinkstateGetReply = 6
	MsgDebugGetReply     = 7
	MsgDebugNtf          = 8
	MsgFeaturesGetReply  = 11
	MsgFeaturesSetReply  = 12
	MsgFeaturesNtf       = 13
	MsgRingsGetReply     = 16
	MsgRingsNtf          = 17
	MsgChannelsGetReply  = 18
	MsgChannelsNtf       = 19
	MsgCoalesceGetReply  = 20
	MsgCoalesceNtf       = 21
	MsgPauseGetReply     = 22
	MsgPauseNtf          = 23
)

// Request header (ETHTOOL_A_HEADER_*) and its flags.
const (
	AHeaderDevIndex = 1
	AHeaderDevName  = 2
	AHeaderFlags    = 3

	FlagCompactBitsets = 1
	FlagOmitReply      = 2
	FlagStats          = 4
)

// Bitsets (ETHTOOL_A_BITSET_*).
const (
	ABitsetNomask = 1
	ABitsetSize   = 2
	ABitsetBits   = 3
	ABitsetValue  = 4
	ABitsetMask   = 5

	ABitsetBitsBit = 1

	ABitsetBitIndex = 1
	ABitsetBitName  = 2
	ABitsetBitValue = 3
)

// String sets.
const (
	AStrsetHeader     = 1
	AStrsetStringsets = 2

	AStringsetsStringset = 1

	AStringsetID      = 1
	AStringsetCount   = 2
	AStringsetStrings = 3

	AStringsString = 1

	AStringIndex = 1
	AStringValue = 2

	SSFeatures = 4 // ETH_SS_FEATURES
)

// Per-message attributes.
const (
	ALinkinfoHeader      = 1
	ALinkinfoPort        = 2
	ALinkinfoPhyaddr     = 3
	ALinkinfoTPMdix      = 4
	ALinkinfoTransceiver = 6

	ALinkmodesHeader  = 1
	ALinkmodesAutoneg = 2
	ALinkmodesOurs    = 3
	ALinkmodesPeer    = 4
	ALinkmodesSpeed   = 5
	ALinkmodesDuplex  = 6

	ALinkstateHeader = 1
	ALinkstateLink   = 2

	ADebugHeader  = 1
	ADebugMsgmask = 2 // bitset

	AFeaturesHeader   = 1
	AFeaturesHW       = 2
	AFeaturesWanted   = 3
	AFeaturesActive   = 4
	AFeaturesNochange = 5

	ARingsHeader     = 1
	ARingsRxMax      = 2
	ARingsRxMiniMax  = 3
	ARingsRxJumboMax = 4
	ARingsTxMax      = 5
	ARingsRx         = 6
	ARingsRxMini     = 7
	ARingsRxJumbo    = 8
	ARingsTx         = 9

	AChannelsHeader        = 1
	AChannelsRxMax         = 2
	AChannelsTxMax         = 3
	AChannelsOtherMax      = 4
	AChannelsCombinedMax   = 5
	AChannelsRxCount       = 6
	AChannelsTxCount       = 7
	AChannelsOtherCount    = 8
	AChannelsCombinedCount = 9

	ACoalesceHeader = 1 // parameters follow at 2 + their CoalesceParam, except the CQE modes

	APauseHeader  = 1
	APauseAutoneg = 2
	APauseRx      = 3
	APauseTx      = 4
	APauseStats   = 5

	APauseStatTxFrames = 2 // ETHTOOL_A_PAUSE_STAT_TX_FRAMES
	APauseStatRxFrames = 3
)

// Vendor family commands (replies use the same numbers).
const (
	VMsgDrvinfoGet   = 1
	VMsgStatsGet     = 2
	VMsgEEPROMGet    = 3
	VMsgEEPROMSet    = 4
	VMsgRegsGet      = 5
	VMsgRxfhGet      = 6
	VMsgRxfhSet      = 7
	VMsgFlowHashGet  = 8
	VMsgFlowHashSet  = 9
	VMsgTestAct      = 10
	VMsgNwayAct      = 11
	VMsgPermaddrGet  = 12
	VMsgLinkstateNtf = 14 // multicast on "monitor"
	VMsgTSInfoGet    = 20 // ETHTOOL_GET_TSINFO
	VMsgRxRingsGet   = 21 // ETHTOOL_GRXRINGS
	VMsgRxClsGet     = 22 // ETHTOOL_GRXCLSRLCNT + GRXCLSRLALL + GRXCLSRULE: the whole table
	VMsgRxClsIns     = 23 // ETHTOOL_SRXCLSRLINS
	VMsgRxClsDel     = 24 // ETHTOOL_SRXCLSRLDEL
	VMsgExtAct       = 25 // an operation Ops has no method for (ethtool.ExtOp)
)

// Vendor family attributes (one numbering for all commands; 1 is the
// header, as in the ethtool family).
const (
	VAHeader      = 1
	VADriver      = 2
	VAVersion     = 3
	VAFwVersion   = 4
	VABusInfo     = 5
	VAEromVersion = 6
	VANStats      = 7
	VATestInfoLen = 8
	VAEEDumpLen   = 9
	VARegDumpLen  = 10
	VANPrivFlags  = 11
	VAStat        = 12 // nest: VAName, VAValue
	VAName        = 13
	VAValue       = 14 // u64
	VAOffset      = 15
	VALength      = 16
	VAMagic       = 17
	VAData        = 18
	VAVersionNum  = 19
	VAKey         = 20
	VAIndir       = 21 // u32 array
	VAHFunc       = 22
	VARxRings     = 23
	VAUserSet     = 24 // flag
	VADefault     = 25 // flag
	VAFlowType    = 26
	VAFields      = 27 // u64
	VAOffline     = 28 // flag
	VAResult      = 29 // nest: VAName, VAValue
	VAAddr        = 30
	VALink        = 34 // u8
	VATSCaps      = 35 // u32 SOF_TIMESTAMPING_* bits
	VAPHCIndex    = 36 // u32 (an int32; -1 none)
	VATxTypes     = 37 // u32
	VARxFilters   = 38 // u32
	VATableSize   = 39 // u32
	VASpecial     = 40 // flag: RX_CLS_LOC_SPECIAL
	VARule        = 41 // nest: VAFlowType, VARuleValue, VARuleMask, VARing, VALoc
	VARuleValue   = 42 // binary: ethtool.FlowFields, little-endian, fixed layout (flowFieldsLen)
	VARuleMask    = 43 // the same for the mask
	VARing        = 44 // u64 ring cookie
	VALoc         = 45 // u32 location
	VAExtOp       = 46 // u8 ethtool.ExtOp
)
