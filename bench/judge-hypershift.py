import json, sys, collections, re
def load(p):
    d = json.load(open(p))['diagnostics']
    out = []
    for x in d:
        path = x['path'].split('hypershift/', 1)[1] if 'hypershift/' in x['path'] else x['path']
        out.append((x['code'], path, x['range']['start']['line'] + 1, x['message']))
    return out

def verdict(code, path, line, msg):
    c = code.split('/', 1)[1]
    if code == 'adapt-purity/environment':
        m = re.search(r"environment \(`([^`]*)`\)", msg)
        first = m.group(1) if m else msg
        if 'per-cluster decision' in msg:
            return 'accept', 'per-cluster decision from MANAGED_SERVICE where azureutil.go:285-287 says to use IsAroHCPByHCP; message names the remedy'
        if 'proxy.SetEnvVars' in first:
            return 'reject', 'leads with proxy.SetEnvVars: propagating the management proxy settings is by design (konnectivity-container.go:249)'
        if 'isAroHCP' in first:
            return 'reject', 'Phase 1 fallback behind the per-HCP helpers (netutil/visibility.go:20,55): sanctioned'
        if 'GetKeyVaultAuthorizedUser' in first:
            return 'reject', 'operator-level key-vault identity passed through to the operand (config/constants.go:84)'
        if 'IsSelfManagedAzure' in msg:
            return 'accept', 'IsSelfManagedAzure → IsAroHCP: process-wide MANAGED_SERVICE for a per-cluster decision (azureutil.go:285-287)'
        if path.endswith('controlplaneoperator/role.go'):
            return 'accept', 'reads ENABLE_CVO_MANAGEMENT_CLUSTER_METRICS_ACCESS directly to shape the Role, while the CVO component receives the same setting as an option (cvo enableCVOManagementClusterMetricsAccess): fair warning'
        if path.endswith('cvo/deployment.go'):
            return 'accept', 'RHOBS switch and CVO_PROMETHEUS_URL read in the adapt function although the component already carries options for this (enableCVOManagementClusterMetricsAccess): fair warning'
        if path.endswith('controlplaneoperator/deployment.go') or path.endswith('configoperator/deployment.go') or path.endswith('cno/deployment.go') or path.endswith('karpenteroperator/deployment.go'):
            return 'reject', 'operator-level switches passed through to the operand under the same name (EnvVar{Name: X}): configuration'
        return '?', ''
    if code == 'adapt-purity/intended-effect':
        if 'sessionsecrets' in path:
            return 'reject', 'reads the existing secret and returns early when it holds valid session secrets: already kept'
        return 'reject', 'registered with component.ReconcileExisting(): the existing certificate is kept'
    if code == 'adapt-purity/read-back':
        if 'sessionsecrets' in path:
            return 'accept', 'reads into the adapted secret itself on a manifest adapter: ReconcileExisting() is the framework way'
        return 'reject', 'copies one field of the live object into the desired one (intended pattern); ReconcileExisting remedy wrong (workload adapt function or single field)'
    if code == 'adapt-purity/live-field':
        return 'accept', 'information: the adapt function keeps one generated field of the live object (node port / image / HCCO-modified controllers); no remedy asked'
    if code in ('adapt-purity/clock', 'adapt-purity/global-write') and 'olm/catalogs' in path:
        return 'accept', 'support/catalogs/images.go:53 `var catalogImagesCache = &imagesCache{}`: setImages writes the package-level cache (images.go:44-50) and getImages expires it by time.Since (images.go:37), from an adapt function (issue item 8, found now)'
    if code in ('adapt-purity/api-call', 'adapt-purity/network', 'adapt-purity/global-write'):
        return 'accept', 'OAuth OIDC discovery from an adapt function: client built from the hosted kubeconfig, RoundTrip per reconcile, package-level cache write'
    if code == 'condition-naming/message-list':
        if path.endswith('karpenter.go'):
            return 'reject', 'notReady grows over karpenterComponents, filtered to two component names: bounded (item 4 not done)'
        if path.endswith('controlplane-component/status.go'):
            return 'reject', "unavailableDependencies is the component's WithDependencies set minus available ones: a few names (item 4 not done)"
        return 'accept', 'list grows with the cluster (missing release images / NodePools) with no count first'
    if code == 'condition-naming/reason-literal':
        if 'capi-crdmigrator' in path:
            return 'reject', 'conditions kept in CAPIMigrationStatus serialised into a ConfigMap, not an API status'
        if 'Reconciliaton' in msg and 'misspelling' not in msg:
            return 'accept', 'true, but misses that "ReconciliatonSucceeded" is a misspelt wire value (item 5)'
        return 'accept', 'literal reason set on an API status; the message says where the constant goes'
    if code == 'condition-naming/reason-joined':
        return 'accept', 'joins per-Machine reasons into the Reason (truncateReasons → strings.Join)'
    if code == 'condition-naming/reason-not-camelcase':
        return 'accept', 'IgnitionNotReached = "ignitionNotReached" in the published API (the message says it is an API change)'
    if code == 'capi-boundary/provider-read':
        return 'accept', 'generic code reads a provider Machine (AgentMachine list / OpenStackServer cleanup)'
    return '?', ''

def table(findings, title):
    rows = []
    by = collections.defaultdict(list)
    for f in findings:
        v, why = verdict(*f)
        by[f[0]].append(v)
        rows.append(f"| `{f[0]}` | `{f[1]}:{f[2]}` | {v} | {why} |")
    lines = [f"## {title}", "", "| code | finding | verdict | why |", "|---|---|---|---|"] + rows
    summary = ["", "| code | findings | accepted | acceptance |", "|---|---|---|---|"]
    tot = acc = 0
    for code in sorted(by):
        n = len(by[code]); a = by[code].count('accept')
        tot += n; acc += a
        summary.append(f"| `{code}` | {n} | {a} | {100*a/n:.0f} % |")
    summary.append(f"| **all** | {tot} | {acc} | {100*acc/tot:.1f} % |")
    unk = [r for r in rows if '| ? |' in r]
    return lines, summary, unk

if __name__ == '__main__':
    for p, t in zip(sys.argv[1::2], sys.argv[2::2]):
        lines, summary, unk = table(load(p), t)
        print("\n".join(summary))
        if unk: print("UNJUDGED", len(unk)); print("\n".join(unk[:20]))
