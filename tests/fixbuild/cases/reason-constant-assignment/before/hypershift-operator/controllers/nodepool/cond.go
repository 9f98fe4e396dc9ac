package nodepool

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// markFailed sets the reconciliation failure on a condition.
func markFailed(condition *metav1.Condition, err error) {
	condition.Status = metav1.ConditionFalse
	condition.Reason = "reconciliation_error"
	condition.Message = err.Error()
}
