package nodepool

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// markHealth sets the health condition.
func markHealth(condition *metav1.Condition, healthy bool) {
	reason := QuotaReason
	if !healthy {
		reason = "Unhealthy"
	}
	condition.Reason = reason
}
