// Generated from the flag tables of /work/research/flags/*.tsv (read from the sources of Kubernetes 1.30–1.33 and
// etcd 3.4 / 3.5; see flags.ts). Every flag each component defines, by how its parser reads the value: `bool` takes no
// argument and is strconv.ParseBool'd when given with `=`; `flag` takes no argument and accepts any `=value`
// (--version, etcd's ignored flags); the numeric, duration, ip and map types are checked the way their Value.Set
// checks them; `string` is every other type (the value is taken as given). Names use dashes, separated by white space.
import type { FlagType } from './flags.js';

type Table = Partial<Record<FlagType, string>>;

export const FLAG_TABLES: Record<'kubelet' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kube-proxy' | 'etcd', Table> = {
  'kubelet': {
    bool: `anonymous-auth authentication-token-webhook cgroups-per-qos contention-profiling cpu-cfs-quota
      enable-controller-attach-detach enable-debugging-handlers enable-load-reader enable-server
      exit-on-lock-contention experimental-allocatable-ignore-eviction fail-swap-on help
      keep-terminated-pod-volumes kernel-memcg-notification local-storage-capacity-isolation
      log-cadvisor-usage log-json-split-stream log-text-split-stream make-iptables-util-chains
      protect-kernel-defaults register-node register-schedulable rotate-certificates
      rotate-server-certificates runonce seccomp-default serialize-image-pulls storage-driver-secure
      windows-service`,
    flag: `version`,
    int: `application-metrics-count-limit`,
    int32: `container-log-max-files event-burst event-qps eviction-max-pod-grace-period healthz-port
      image-gc-high-threshold image-gc-low-threshold iptables-drop-bit iptables-masquerade-bit
      kube-api-burst kube-api-qps max-pods maximum-dead-containers maximum-dead-containers-per-container
      node-status-max-images oom-score-adj pods-per-core port read-only-port registry-burst registry-qps`,
    int64: `max-open-files pod-max-pids`,
    duration: `authentication-token-webhook-cache-ttl authorization-webhook-cache-authorized-ttl
      authorization-webhook-cache-unauthorized-ttl cpu-cfs-quota-period cpu-manager-reconcile-period
      eviction-pressure-transition-period file-check-frequency global-housekeeping-interval
      housekeeping-interval http-check-frequency log-flush-frequency minimum-container-ttl-duration
      minimum-image-ttl-duration node-status-update-frequency runtime-request-timeout
      storage-driver-buffer-duration streaming-connection-idle-timeout sync-frequency
      volume-stats-agg-period`,
    Level: `v`,
    ip: `address healthz-bind-address`,
    mapStringBool: `feature-gates`,
    string: `allowed-unsafe-sysctls authorization-mode azure-container-registry-config boot-id-file
      bootstrap-kubeconfig cert-dir cgroup-driver cgroup-root client-ca-file cloud-config cloud-provider
      cluster-dns cluster-domain config config-dir container-hints container-log-max-size
      container-runtime-endpoint containerd containerd-namespace cpu-manager-policy
      cpu-manager-policy-options enforce-node-allocatable event-storage-age-limit
      event-storage-event-limit eviction-hard eviction-minimum-reclaim eviction-soft
      eviction-soft-grace-period experimental-mounter-path hairpin-mode hostname-override
      image-credential-provider-bin-dir image-credential-provider-config image-service-endpoint
      kube-api-content-type kube-reserved kube-reserved-cgroup kubeconfig kubelet-cgroups lock-file
      log-json-info-buffer-size log-text-info-buffer-size logging-format machine-id-file manifest-url
      manifest-url-header memory-manager-policy node-ip node-labels pod-cidr pod-infra-container-image
      pod-manifest-path provider-id qos-reserved register-with-taints reserved-cpus reserved-memory
      resolv-conf root-dir runtime-cgroups storage-driver-db storage-driver-host storage-driver-password
      storage-driver-table storage-driver-user system-cgroups system-reserved system-reserved-cgroup
      tls-cert-file tls-cipher-suites tls-min-version tls-private-key-file topology-manager-policy
      topology-manager-policy-options topology-manager-scope vmodule volume-plugin-dir
      windows-priorityclass`,
  },
  'kube-apiserver': {
    bool: `aggregator-reject-forwarding-redirect allow-privileged anonymous-auth
      audit-log-batch-throttle-enable audit-log-compress audit-log-truncate-enabled
      audit-webhook-batch-throttle-enable audit-webhook-truncate-enabled contention-profiling
      disable-http2-serving emulation-forward-compatible enable-aggregator-routing
      enable-bootstrap-token-auth enable-garbage-collector enable-logs-handler
      enable-priority-and-fairness encryption-provider-config-automatic-reload help log-json-split-stream
      log-text-split-stream permit-address-sharing permit-port-sharing profiling
      runtime-config-emulation-forward-compatible service-account-extend-token-expiration
      service-account-lookup shutdown-send-retry-after watch-cache`,
    flag: `version`,
    int: `apiserver-count audit-log-batch-buffer-size audit-log-batch-max-size audit-log-batch-throttle-burst
      audit-log-maxage audit-log-maxbackup audit-log-maxsize audit-webhook-batch-buffer-size
      audit-webhook-batch-max-size audit-webhook-batch-throttle-burst default-watch-cache-size
      delete-collection-workers http2-max-streams-per-connection identity-lease-duration-seconds
      identity-lease-renew-interval-seconds kubernetes-service-node-port max-mutating-requests-inflight
      max-requests-inflight min-request-timeout secure-port`,
    int64: `audit-log-truncate-max-batch-size audit-log-truncate-max-event-size
      audit-webhook-truncate-max-batch-size audit-webhook-truncate-max-event-size
      default-not-ready-toleration-seconds default-unreachable-toleration-seconds
      lease-reuse-duration-seconds max-connection-bytes-per-sec`,
    uint: `kubelet-port kubelet-read-only-port`,
    float32: `audit-log-batch-throttle-qps audit-webhook-batch-throttle-qps`,
    float64: `goaway-chance`,
    duration: `audit-log-batch-max-wait audit-webhook-batch-initial-backoff audit-webhook-batch-max-wait
      audit-webhook-initial-backoff authentication-token-webhook-cache-ttl
      authorization-webhook-cache-authorized-ttl authorization-webhook-cache-unauthorized-ttl
      coordinated-leadership-lease-duration coordinated-leadership-renew-deadline
      coordinated-leadership-retry-period etcd-compaction-interval etcd-count-metric-poll-period
      etcd-db-metric-poll-interval etcd-healthcheck-timeout etcd-readycheck-timeout event-ttl
      kubelet-timeout livez-grace-period log-flush-frequency request-timeout
      service-account-max-token-expiration shutdown-delay-duration shutdown-watch-termination-grace-period
      storage-initialization-timeout`,
    Level: `v`,
    ip: `advertise-address bind-address`,
    mapStringBool: `feature-gates`,
    string: `admission-control admission-control-config-file allow-metric-labels allow-metric-labels-manifest
      api-audiences audit-log-format audit-log-mode audit-log-path audit-log-version audit-policy-file
      audit-webhook-config-file audit-webhook-mode audit-webhook-version authentication-config
      authentication-token-webhook-config-file authentication-token-webhook-version authorization-config
      authorization-mode authorization-policy-file authorization-webhook-config-file
      authorization-webhook-version cert-dir client-ca-file cloud-config cloud-provider
      cloud-provider-gce-l7lb-src-cidrs cloud-provider-gce-lb-src-cidrs cors-allowed-origins
      debug-socket-path disable-admission-plugins disabled-metrics egress-selector-config-file
      emulated-version enable-admission-plugins encryption-provider-config endpoint-reconciler-type
      etcd-cafile etcd-certfile etcd-keyfile etcd-prefix etcd-servers etcd-servers-overrides
      external-hostname kubelet-certificate-authority kubelet-client-certificate kubelet-client-key
      kubelet-preferred-address-types log-json-info-buffer-size log-text-info-buffer-size logging-format
      min-compatibility-version oidc-ca-file oidc-client-id oidc-groups-claim oidc-groups-prefix
      oidc-issuer-url oidc-required-claim oidc-signing-algs oidc-username-claim oidc-username-prefix
      peer-advertise-ip peer-advertise-port peer-ca-file proxy-client-cert-file proxy-client-key-file
      requestheader-allowed-names requestheader-client-ca-file requestheader-extra-headers-prefix
      requestheader-group-headers requestheader-uid-headers requestheader-username-headers runtime-config
      service-account-issuer service-account-jwks-uri service-account-key-file
      service-account-signing-endpoint service-account-signing-key-file service-cluster-ip-range
      service-node-port-range show-hidden-metrics-for-version storage-backend storage-media-type
      strict-transport-security-directives tls-cert-file tls-cipher-suites tls-min-version
      tls-private-key-file tls-sni-cert-key token-auth-file tracing-config-file vmodule watch-cache-sizes`,
  },
  'kube-controller-manager': {
    bool: `allocate-node-cidrs allow-untagged-cloud authentication-skip-lookup
      authentication-tolerate-lookup-failure configure-cloud-routes contention-profiling
      disable-attach-detach-reconcile-sync disable-force-detach-on-timeout disable-http2-serving
      enable-dynamic-provisioning enable-garbage-collector enable-hostpath-provisioner
      enable-leader-migration help leader-elect log-json-split-stream log-text-split-stream
      permit-address-sharing permit-port-sharing profiling use-service-account-credentials
      volume-host-allow-local-loopback`,
    flag: `version`,
    int: `http2-max-streams-per-connection secure-port`,
    int32: `concurrent-cron-job-syncs concurrent-daemonset-syncs concurrent-deployment-syncs
      concurrent-endpoint-syncs concurrent-ephemeralvolume-syncs concurrent-gc-syncs
      concurrent-horizontal-pod-autoscaler-syncs concurrent-job-syncs concurrent-namespace-syncs
      concurrent-rc-syncs concurrent-replicaset-syncs concurrent-resource-quota-syncs
      concurrent-service-endpoint-syncs concurrent-service-syncs concurrent-serviceaccount-token-syncs
      concurrent-statefulset-syncs concurrent-ttl-after-finished-syncs
      concurrent-validating-admission-policy-status-syncs kube-api-burst large-cluster-size-threshold
      max-endpoints-per-slice mirroring-concurrent-service-endpoint-syncs
      mirroring-max-endpoints-per-subset node-cidr-mask-size node-cidr-mask-size-ipv4
      node-cidr-mask-size-ipv6 pv-recycler-increment-timeout-nfs pv-recycler-minimum-timeout-hostpath
      pv-recycler-minimum-timeout-nfs pv-recycler-timeout-increment-hostpath terminated-pod-gc-threshold`,
    float32: `kube-api-qps node-eviction-rate secondary-node-eviction-rate unhealthy-zone-threshold`,
    float64: `horizontal-pod-autoscaler-tolerance`,
    duration: `attach-detach-reconcile-sync-period authentication-token-webhook-cache-ttl
      authorization-webhook-cache-authorized-ttl authorization-webhook-cache-unauthorized-ttl
      cluster-signing-duration controller-start-interval endpoint-updates-batch-period
      endpointslice-updates-batch-period horizontal-pod-autoscaler-cpu-initialization-period
      horizontal-pod-autoscaler-downscale-delay horizontal-pod-autoscaler-downscale-stabilization
      horizontal-pod-autoscaler-initial-readiness-delay horizontal-pod-autoscaler-sync-period
      horizontal-pod-autoscaler-upscale-delay leader-elect-lease-duration leader-elect-renew-deadline
      leader-elect-retry-period legacy-service-account-token-clean-up-period log-flush-frequency
      min-resync-period mirroring-endpointslice-updates-batch-period namespace-sync-period
      node-monitor-grace-period node-monitor-period node-startup-grace-period node-sync-period
      pvclaimbinder-sync-period resource-quota-sync-period route-reconciliation-period`,
    Level: `v`,
    ip: `bind-address`,
    mapStringBool: `feature-gates`,
    string: `allow-metric-labels allow-metric-labels-manifest authentication-kubeconfig
      authorization-always-allow-paths authorization-kubeconfig cert-dir cidr-allocator-type
      client-ca-file cloud-config cloud-provider cloud-provider-gce-lb-src-cidrs cluster-cidr cluster-name
      cluster-signing-cert-file cluster-signing-key-file cluster-signing-kube-apiserver-client-cert-file
      cluster-signing-kube-apiserver-client-key-file cluster-signing-kubelet-client-cert-file
      cluster-signing-kubelet-client-key-file cluster-signing-kubelet-serving-cert-file
      cluster-signing-kubelet-serving-key-file cluster-signing-legacy-unknown-cert-file
      cluster-signing-legacy-unknown-key-file controllers disabled-metrics emulated-version
      external-cloud-volume-plugin flex-volume-plugin-dir kube-api-content-type kubeconfig
      leader-elect-resource-lock leader-elect-resource-name leader-elect-resource-namespace
      leader-migration-config log-json-info-buffer-size log-text-info-buffer-size logging-format master
      pv-recycler-pod-template-filepath-hostpath pv-recycler-pod-template-filepath-nfs
      requestheader-allowed-names requestheader-client-ca-file requestheader-extra-headers-prefix
      requestheader-group-headers requestheader-uid-headers requestheader-username-headers root-ca-file
      service-account-private-key-file service-cluster-ip-range show-hidden-metrics-for-version
      tls-cert-file tls-cipher-suites tls-min-version tls-private-key-file tls-sni-cert-key vmodule
      volume-host-cidr-denylist`,
  },
  'kube-scheduler': {
    bool: `authentication-skip-lookup authentication-tolerate-lookup-failure contention-profiling
      disable-http2-serving help leader-elect log-json-split-stream log-text-split-stream
      permit-address-sharing permit-port-sharing profiling`,
    flag: `version`,
    int: `http2-max-streams-per-connection secure-port`,
    int32: `kube-api-burst`,
    float32: `kube-api-qps`,
    duration: `authentication-token-webhook-cache-ttl authorization-webhook-cache-authorized-ttl
      authorization-webhook-cache-unauthorized-ttl leader-elect-lease-duration leader-elect-renew-deadline
      leader-elect-retry-period log-flush-frequency pod-max-in-unschedulable-pods-duration`,
    Level: `v`,
    ip: `bind-address`,
    mapStringBool: `feature-gates`,
    string: `allow-metric-labels allow-metric-labels-manifest authentication-kubeconfig
      authorization-always-allow-paths authorization-kubeconfig cert-dir client-ca-file config
      disabled-metrics emulated-version kube-api-content-type kubeconfig leader-elect-resource-lock
      leader-elect-resource-name leader-elect-resource-namespace lock-object-name lock-object-namespace
      log-json-info-buffer-size log-text-info-buffer-size logging-format master
      requestheader-allowed-names requestheader-client-ca-file requestheader-extra-headers-prefix
      requestheader-group-headers requestheader-uid-headers requestheader-username-headers
      show-hidden-metrics-for-version tls-cert-file tls-cipher-suites tls-min-version tls-private-key-file
      tls-sni-cert-key vmodule write-config-to`,
  },
  'kube-proxy': {
    bool: `bind-address-hard-fail cleanup conntrack-tcp-be-liberal help init-only iptables-localhost-nodeports
      ipvs-strict-arp log-json-split-stream log-text-split-stream masquerade-all profiling windows-service`,
    flag: `version`,
    int32: `conntrack-max-per-core conntrack-min healthz-port iptables-masquerade-bit kube-api-burst
      metrics-port oom-score-adj`,
    float32: `kube-api-qps`,
    duration: `config-sync-period conntrack-tcp-timeout-close-wait conntrack-tcp-timeout-established
      conntrack-udp-timeout conntrack-udp-timeout-stream iptables-min-sync-period iptables-sync-period
      ipvs-min-sync-period ipvs-sync-period ipvs-tcp-timeout ipvs-tcpfin-timeout ipvs-udp-timeout
      log-flush-frequency`,
    Level: `v`,
    ip: `bind-address`,
    mapStringBool: `feature-gates`,
    string: `cluster-cidr config detect-local-mode healthz-bind-address hostname-override ipvs-exclude-cidrs
      ipvs-scheduler kube-api-content-type kubeconfig log-json-info-buffer-size log-text-info-buffer-size
      logging-format master metrics-bind-address nodeport-addresses pod-bridge-interface
      pod-interface-name-prefix proxy-mode proxy-port-range show-hidden-metrics-for-version vmodule
      write-config-to`,
  },
  'etcd': {
    bool: `auto-tls client-cert-auth debug enable-grpc-gateway enable-log-rotation enable-pprof enable-v2
      experimental-compact-hash-check-enabled experimental-enable-distributed-tracing
      experimental-enable-lease-checkpoint experimental-enable-lease-checkpoint-persist
      experimental-initial-corrupt-check experimental-memory-mlock
      experimental-peer-skip-client-san-verification experimental-stop-grpc-service-on-defrag
      experimental-txn-mode-write-with-shared-buffer force-new-cluster initial-election-tick-advance
      next-cluster-version-compatible peer-auto-tls peer-client-cert-auth pre-vote socket-reuse-address
      socket-reuse-port strict-reconfig-check unsafe-no-fsync version`,
    flag: `cluster-active-size cluster-remove-delay cluster-sync-interval config force max-result-buffer
      max-retry-attempts peer-election-timeout peer-heartbeat-interval retry-interval snapshot
      test.coverprofile test.outputdir v vv`,
    int: `backend-batch-limit experimental-compaction-batch-limit
      experimental-distributed-tracing-sampling-rate`,
    int64: `quota-backend-bytes`,
    uint: `auth-token-ttl bcrypt-cost election-timeout experimental-bootstrap-defrag-threshold-megabytes
      heartbeat-interval max-request-bytes max-snapshots max-txn-ops max-wals proxy-dial-timeout
      proxy-failure-wait proxy-read-timeout proxy-refresh-interval proxy-write-timeout
      self-signed-cert-validity`,
    uint32: `max-concurrent-streams`,
    uint64: `experimental-snapshot-catchup-entries snapshot-count`,
    duration: `backend-batch-interval experimental-compact-hash-check-time experimental-compaction-sleep-interval
      experimental-corrupt-check-time experimental-downgrade-check-time
      experimental-warning-apply-duration experimental-watch-progress-notify-interval
      grpc-keepalive-interval grpc-keepalive-min-time grpc-keepalive-timeout raft-read-timeout
      raft-write-timeout`,
    string: `advertise-client-urls auth-token auto-compaction-mode auto-compaction-retention
      backend-bbolt-freelist-type cert-file cipher-suites client-cert-allowed-hostname client-cert-file
      client-crl-file client-key-file config-file cors data-dir discovery discovery-fallback
      discovery-proxy discovery-srv discovery-srv-name experimental-backend-bbolt-freelist-type
      experimental-distributed-tracing-address experimental-distributed-tracing-instance-id
      experimental-distributed-tracing-service-name experimental-enable-v2v3 host-whitelist
      initial-advertise-peer-urls initial-cluster initial-cluster-state initial-cluster-token key-file
      listen-client-http-urls listen-client-urls listen-metrics-urls listen-peer-urls log-level log-output
      log-outputs log-package-levels log-rotation-config-json logger metrics name peer-cert-allowed-cn
      peer-cert-allowed-hostname peer-cert-file peer-client-cert-file peer-client-key-file peer-crl-file
      peer-key-file peer-trusted-ca-file proxy tls-max-version tls-min-version trusted-ca-file
      v2-deprecation wal-dir`,
  },
};
