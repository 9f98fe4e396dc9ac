// Package v1beta1 is a test stub of the Agent provider's API.
package v1beta1

// AgentMachine is the provider Machine.
type AgentMachine struct {
	Name string
}

// AgentMachineTemplate is the provider template.
type AgentMachineTemplate struct {
	Name string
}
