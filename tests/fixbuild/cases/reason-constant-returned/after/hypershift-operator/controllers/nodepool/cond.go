package nodepool

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// availability says whether the job still runs, and why.
func availability(active bool) (metav1.ConditionStatus, string, string) {
	if active {
		return metav1.ConditionFalse, JobActiveReason, "Job is still running"
	}
	return metav1.ConditionTrue, QuotaReason, "done"
}

// markAvailable sets the condition from availability.
func markAvailable(condition *metav1.Condition, active bool) {
	status, reason, message := availability(active)
	condition.Status = status
	condition.Reason = reason
	condition.Message = message
}
