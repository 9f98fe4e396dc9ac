package controlplanecomponent

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types and reasons of a control-plane component.
const (
	RolloutCompleteType          = "RolloutComplete"
	WaitingForDependenciesReason = "WaitingForDependencies"
)

// setRolloutCompleteCondition records that the rollout waits for its dependencies, naming them.
func setRolloutCompleteCondition(conditions *[]metav1.Condition, unavailableDependencies []string) bool {
	if len(unavailableDependencies) > 0 {
		*conditions = append(*conditions, metav1.Condition{
			Type:   RolloutCompleteType,
			Status: metav1.ConditionFalse,
			Reason: WaitingForDependenciesReason,
			// invariant:ignore condition-naming/message-list -- <why this is fine>
			Message: fmt.Sprintf("Waiting for Dependencies: %s", strings.Join(unavailableDependencies, ", ")),
		})
		return false
	}
	return true
}
