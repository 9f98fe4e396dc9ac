package nodepool

import (
	"fmt"

	agentv1 "github.com/openshift/cluster-api-provider-agent/api/v1beta1"
	capiazure "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
)

func kindOf(obj any) string {
	return fmt.Sprintf("%T", obj)
}

// listMachineTemplates names the template kind of a platform.
func listMachineTemplates(platform string) (string, error) {
	var kind string
	switch platform {
	case "Azure":
		kind = kindOf(&capiazure.AzureMachineTemplate{})
	case "Agent":
		kind = kindOf(&agentv1.AgentMachine{})
	default:
		return "", nil
	}
	return kind, nil
}
