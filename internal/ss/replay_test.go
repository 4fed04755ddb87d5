package ss

import (
	"encoding/binary"
	"fmt"
	"os"
)

// readDiagFile reads a TCPDIAG_FILE (ss -D's dump): netlink messages up
// to NLMSG_DONE; it returns each inet_diag_msg with its attributes.
func readDiagFile(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(b) >= nlmsgHdrLen {
		n := int(binary.NativeEndian.Uint32(b))
		typ := binary.NativeEndian.Uint16(b[4:])
		if n < nlmsgHdrLen || n > len(b) {
			return nil, fmt.Errorf("%s: message of %d bytes", path, n)
		}
		if typ == NlmsgDone {
			return out, nil
		}
		out = append(out, b[nlmsgHdrLen:n])
		b = b[(n+3)&^3:]
	}
	return nil, fmt.Errorf("%s: no NLMSG_DONE", path)
}
