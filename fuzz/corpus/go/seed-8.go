package kubevirt

import capikubevirt "sigs.k8s.io/cluster-api-provider-kubevirt/api/v1alpha1"

// The kubevirt subpackage is platform code: no finding.
func machines() *capikubevirt.KubevirtMachineList {
	return &capikubevirt.KubevirtMachineList{}
}
