module vnic/test/anchors

go 1.26.8

require (
	github.com/gaissmai/bart v0.30.0
	vnic v0.0.0
)

replace vnic => ../..
