package nodepool

import (
	"fmt"

	capiazure "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
	capiv1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
)

const (
	azurePlatformName                   = "Azure"
	AzureMachineFailureReasonAnnotation = "hypershift.openshift.io/azure-machine-failure-reason"
)

// setAzureMachineFailureReasonAnnotation copies the failure reason onto the Machine.
func setAzureMachineFailureReasonAnnotation(machine *capiv1.Machine, azureMachine *capiazure.AzureMachine) {
	annotations := machine.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	if azureMachine.Status.FailureReason != nil {
		annotations[AzureMachineFailureReasonAnnotation] = fmt.Sprint(*azureMachine.Status.FailureReason)
	}
	machine.SetAnnotations(annotations)
}
