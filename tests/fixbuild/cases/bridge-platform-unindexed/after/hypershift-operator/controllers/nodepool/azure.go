package nodepool

import (
	"fmt"
	"strings"

	capiazure "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
	capiv1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// azureName is an unrelated helper of the platform file.
func azureName(key client.ObjectKey) string {
	return strings.ToLower(key.Name)
}

// AzureMachineFailureReasonAnnotation carries the AzureMachine's Status.FailureReason to its generic Machine, so that
// platform-agnostic code reads an annotation instead of the provider object.
const AzureMachineFailureReasonAnnotation = "hypershift.openshift.io/azure-machine-failure-reason"

// setAzureMachineFailureReasonAnnotation copies the AzureMachine's Status.FailureReason onto its generic Machine. Call it
// where this platform controller reconciles the AzureMachine.
func setAzureMachineFailureReasonAnnotation(machine *capiv1.Machine, azureMachine *capiazure.AzureMachine) {
	annotations := machine.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	if azureMachine.Status.FailureReason != nil {
		annotations[AzureMachineFailureReasonAnnotation] = fmt.Sprint(*azureMachine.Status.FailureReason)
	} else {
		delete(annotations, AzureMachineFailureReasonAnnotation)
	}
	machine.SetAnnotations(annotations)
}
