package configs

import _ "embed"

// Default is the text of default.yaml.
//
//go:embed default.yaml
var Default []byte
