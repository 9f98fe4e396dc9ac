package nodepool
import capz "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
func f( {
 m := &capz.AzureMachine{
