package v1beta1

const (
	NodePoolAllMachinesReadyConditionType = "AllMachinesReady"
	NodePoolCapacityErrorConditionType    = "capacity_error" // want "condition-naming/type-not-camelcase"
	NodePoolPerformanceTuningConditionTypePrefix = "performance.operator.openshift.io"
	NodePoolPerformanceAvailableConditionType    = "performance.operator.openshift.io/Available"

	NodePoolValidationFailedReason = "ValidationFailed"
	NodePoolQuotaReason            = "quota exceeded" // want "condition-naming/reason-not-camelcase"
	IgnitionNotReached             = "ignitionNotReached" // want "condition-naming/reason-not-camelcase"
	AllIsWellMessage               = "All is well"
)

type ConditionType string

const (
	HostedClusterAvailable ConditionType = "Available"
	HostedClusterDegraded  ConditionType = "degraded" // want "condition-naming/type-not-camelcase"
)
