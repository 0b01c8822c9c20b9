// Package telehealthbridge carries the files the binary embeds: the documented example
// configuration that `-e` writes and that every user config is upgraded into.
package telehealthbridge

import _ "embed"

// ExampleConfig is config.example.yaml, the documented default configuration.
//
//go:embed config.example.yaml
var ExampleConfig string
