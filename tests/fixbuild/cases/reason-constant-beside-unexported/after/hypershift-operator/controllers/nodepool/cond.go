package nodepool

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// pausedCondition says whether reconciliation is paused.
func pausedCondition(paused bool, condition *metav1.Condition) {
	condition.Type = "ReconciliationActive"
	if paused {
		condition.Reason = reconciliationPausedConditionReason
		return
	}
	if condition.Status == metav1.ConditionUnknown {
		condition.Reason = capacityErrorReason
		return
	}
	condition.Reason = reconciliationActiveConditionReason
}

var _ = reconciliationInvalidPausedUntilConditionReason
