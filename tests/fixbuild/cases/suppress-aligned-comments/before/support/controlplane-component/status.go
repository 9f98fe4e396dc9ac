package controlplanecomponent

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WaitingForDependenciesReason says the component waits for others.
const WaitingForDependenciesReason = "WaitingForDependencies"

// waitingCondition names what the component waits for; trailing comments and a key long
// enough to set the width below the finding.
func waitingCondition(unavailableDependencies []string) metav1.Condition {
	return metav1.Condition{
		Type:   "RolloutComplete",            // the rollout
		Status: metav1.ConditionFalse,        // not yet
		Reason: WaitingForDependenciesReason, // always this one
		Message: fmt.Sprintf("Waiting for Dependencies: %s",
			strings.Join(unavailableDependencies, ", ")),
	}
}

// waitingConditionAligned: the finding's line sets the key width of the lines above it.
func waitingConditionAligned(unavailableDependencies []string) metav1.Condition {
	return metav1.Condition{
		Type:    "RolloutComplete",                                                                        // the rollout
		Status:  metav1.ConditionFalse,                                                                    // not yet
		Message: fmt.Sprintf("Waiting for Dependencies: %s", strings.Join(unavailableDependencies, ", ")), // the list
		Reason:  WaitingForDependenciesReason,                                                             // always this one
	}
}
