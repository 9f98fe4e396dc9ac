package nodepool

// Reasons of the NodePool conditions.
const (
	QuotaReason         = "Quota"
	CapacityErrorReason = "CapacityExceeded"
)
