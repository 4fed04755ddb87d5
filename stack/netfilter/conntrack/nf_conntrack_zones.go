package conntrack

// Zones (include/net/netfilter/nf_conntrack_zones.h): a connection lives
// in a zone, and the same tuple in two zones is two connections. A zone
// may apply to one direction only (NF_CT_ZONE_DIR_ORIG, _REPL): its id
// then keys that direction's tuple, and the other direction is keyed in
// the default zone 0. The id a tuple is hashed and compared with is the
// zone's id in that tuple's direction (nf_ct_zone_id).

// ZoneDir is the directions a zone applies to: ZoneDirOrig, ZoneDirRepl,
// or 0 for both (NF_CT_DEFAULT_ZONE_DIR, which Linux spells as both bits:
// vnic's zero value is the default so that Zone{} is the default zone).
type ZoneDir uint8

const (
	ZoneDirBoth ZoneDir = 0      // NF_CT_DEFAULT_ZONE_DIR
	ZoneDirOrig ZoneDir = 1 << 0 // NF_CT_ZONE_DIR_ORIG
	ZoneDirRepl ZoneDir = 1 << 1 // NF_CT_ZONE_DIR_REPL
)

// ZoneFlags are a template's zone flags.
type ZoneFlags uint8

// ZoneFromMark is NF_CT_FLAG_MARK: the zone id is the packet's mark (its
// low 16 bits), read when the connection is looked up.
const ZoneFromMark ZoneFlags = 1 << 0

// Zone is struct nf_conntrack_zone: an id, the directions it applies
// to, and (on a template only) whether the id comes from the packet's
// mark. The zero value is the default zone.
type Zone struct {
	ID    uint16
	Dir   ZoneDir
	Flags ZoneFlags
}

// DefaultZone is nf_ct_zone_dflt: zone 0, both directions.
var DefaultZone = Zone{}

// IDIn is nf_ct_zone_id: the zone's id in direction d, or the default
// zone's (0) when the zone does not apply to d.
func (z Zone) IDIn(d Dir) uint16 {
	if z.Dir == ZoneDirBoth || z.Dir&(1<<d) != 0 {
		return z.ID
	}
	return 0
}

// zoneEqual is nf_ct_key_equal's zone half (nf_ct_zone_equal): the zone of
// the connection and the zone looked up give the same id in the
// direction of the node found.
func (c *Conn) zoneEqual(z Zone, d Dir) bool { return c.zone.IDIn(d) == z.IDIn(d) }
