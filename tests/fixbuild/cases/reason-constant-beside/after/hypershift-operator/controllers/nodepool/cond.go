package nodepool

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// capacityCondition reports a capacity problem.
func capacityCondition() metav1.Condition {
	return metav1.Condition{
		Type:    "CapacityAvailable",
		Status:  metav1.ConditionFalse,
		Reason:  CapacityErrorReason,
		Message: "no capacity",
	}
}
