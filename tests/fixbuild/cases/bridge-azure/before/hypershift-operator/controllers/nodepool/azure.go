package nodepool

import (
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// azureName is an unrelated helper of the platform file.
func azureName(key client.ObjectKey) string {
	return strings.ToLower(key.Name)
}
