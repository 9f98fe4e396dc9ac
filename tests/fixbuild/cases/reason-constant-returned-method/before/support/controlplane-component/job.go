package controlplanecomponent

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// jobProvider reports a Job's availability.
type jobProvider struct {
	active bool
}

// IsAvailable implements workloadProvider.
func (c *jobProvider) IsAvailable() (status metav1.ConditionStatus, reason string, message string) {
	if c.active {
		return metav1.ConditionTrue, "JobActive", "Job is still running"
	}
	return metav1.ConditionTrue, "JobComplete", "Job completed successfully"
}
