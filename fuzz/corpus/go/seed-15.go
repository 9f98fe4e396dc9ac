package v1beta1

// Conditions of a NodePool.
const (
	NodePoolAllMachinesReadyConditionType = "AllMachinesReady"
	NodePoolCapacityErrorConditionType    = "capacity error" // want "condition-naming/type-not-camelcase"

	NodePoolValidationFailedReason = "ValidationFailed"
	NodePoolQuotaExceededReason    = "quota_exceeded" // want "condition-naming/reason-not-camelcase"
)
