package controlplanecomponent

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// jobProvider reports a Job's availability.
type jobProvider struct {
	active bool
}

const jobActiveReason = "JobActive"

// IsAvailable implements workloadProvider.
func (c *jobProvider) IsAvailable() (status metav1.ConditionStatus, reason string, message string) {
	if c.active {
		return metav1.ConditionTrue, jobActiveReason, "Job is still running"
	}
	return metav1.ConditionTrue, "JobComplete", "Job completed successfully"
}
