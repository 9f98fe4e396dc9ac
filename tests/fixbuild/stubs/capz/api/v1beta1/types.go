// Package v1beta1 is a test stub of CAPZ's API: only what the fix fixtures use.
package v1beta1

// MachineStatusError is a string-typed error reason.
type MachineStatusError string

// AzureMachineStatus is the stub of the provider status.
type AzureMachineStatus struct {
	Ready          bool
	FailureReason  *MachineStatusError
	FailureMessage *string
}

// AzureMachine is the provider Machine.
type AzureMachine struct {
	Namespace string
	Name      string
	Status    AzureMachineStatus
}

// AzureMachineTemplate is the provider template.
type AzureMachineTemplate struct {
	Name string
}
