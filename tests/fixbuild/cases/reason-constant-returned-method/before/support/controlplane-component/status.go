package controlplanecomponent

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// workloadProvider says whether a workload is available, and why.
type workloadProvider interface {
	IsAvailable() (metav1.ConditionStatus, string, string)
}

// availableType is the type of the availability condition.
const availableType = "Available"

// setAvailableCondition records the workload's availability: the reason comes from the provider.
func setAvailableCondition(conditions *[]metav1.Condition, provider workloadProvider) {
	status, reason, message := provider.IsAvailable()
	*conditions = append(*conditions, metav1.Condition{
		Type:    availableType,
		Status:  status,
		Reason:  reason,
		Message: message,
	})
}

var _ workloadProvider = &jobProvider{}
