module vnic/test/anchors

go 1.26.8

require (
	github.com/gaissmai/bart v0.30.0
	vnic v0.0.0
)

require gvisor.dev/gvisor v0.0.0-20260905035102-160fafc42237 // indirect

replace vnic => ../..
