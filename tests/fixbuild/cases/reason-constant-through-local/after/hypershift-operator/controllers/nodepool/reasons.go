package nodepool

// Reasons of the NodePool conditions.
const (
	QuotaReason              = "Quota"
	MachinesNotReadyReason   = "MachinesNotReady"
	WaitingForTemplateReason = "WaitingForTemplate"

	UnhealthyReason = "Unhealthy"
)
