// Package v1 is a test stub of apimachinery's meta/v1.
package v1

// ConditionStatus is True, False or Unknown.
type ConditionStatus string

// Condition statuses.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// Condition is a status condition.
type Condition struct {
	Type    string
	Status  ConditionStatus
	Reason  string
	Message string
}
