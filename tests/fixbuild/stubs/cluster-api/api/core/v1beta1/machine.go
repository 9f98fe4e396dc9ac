// Package v1beta1 is a test stub of Cluster API's core types: only what the fix fixtures use.
package v1beta1

// ObjectReference names another object.
type ObjectReference struct {
	Kind      string
	Namespace string
	Name      string
}

// MachineSpec is the stub of a Machine's spec.
type MachineSpec struct {
	InfrastructureRef ObjectReference
}

// Machine is the generic Cluster API Machine.
type Machine struct {
	Namespace   string
	Name        string
	Annotations map[string]string
	Spec        MachineSpec
}

// GetAnnotations returns the Machine's annotations.
func (m *Machine) GetAnnotations() map[string]string { return m.Annotations }

// SetAnnotations replaces the Machine's annotations.
func (m *Machine) SetAnnotations(a map[string]string) { m.Annotations = a }

// MachineList is a list of Machines.
type MachineList struct {
	Items []Machine
}
