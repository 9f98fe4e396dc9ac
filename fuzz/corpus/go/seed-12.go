package nodepool

import (
	"fmt"
	"strings"

	hyperv1 "github.com/openshift/hypershift/api/hypershift/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func capacityCondition(machines []string) *hyperv1.NodePoolCondition {
	var msgs []string
	for _, m := range machines {
		msgs = append(msgs, fmt.Sprintf("Machine %s: quota exceeded", m))
	}
	return &hyperv1.NodePoolCondition{
		Type:    hyperv1.NodePoolCapacityErrorConditionType,
		Status:  "False",
		Reason:  "capacity_error", // want "condition-naming/reason-literal"
		Message: strings.Join(msgs, "; "), // want "condition-naming/message-list"
	}
}

// A leading count makes it a summary: no finding.
func healthyCondition(unhealthy []string, total int) metav1.Condition {
	var details []string
	for _, m := range unhealthy {
		details = append(details, m)
	}
	return metav1.Condition{
		Type:    "AllMachinesHealthy",
		Status:  metav1.ConditionFalse,
		Reason:  hyperv1.NodePoolValidationFailedReason,
		Message: fmt.Sprintf("%d of %d machines are not healthy: %s", len(unhealthy), total, strings.Join(details, ", ")),
	}
}

// A builder started with a count line (as nodepool_controller.go does): no finding.
func readyCondition(notReady []string, total int) metav1.Condition {
	b := &strings.Builder{}
	fmt.Fprintf(b, "%d of %d machines are not ready\n", len(notReady), total)
	for _, m := range notReady {
		b.WriteString("Machine " + m + "\n")
	}
	return metav1.Condition{Type: "AllMachinesReady", Status: metav1.ConditionFalse, Reason: hyperv1.NodePoolValidationFailedReason, Message: b.String()}
}

// A string grown with += and no count: a finding.
func drainCondition(nodes []string) metav1.Condition {
	msg := ""
	for _, n := range nodes {
		msg += n + " is draining. "
	}
	return metav1.Condition{Type: "Draining", Status: metav1.ConditionTrue, Reason: hyperv1.NodePoolValidationFailedReason, Message: msg} // want "condition-naming/message-list"
}
