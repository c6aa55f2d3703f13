"""XAPI failures in words: what the code means, its parameters by name, and
what to do about it. Parameter names follow XAPI's error table (checked by a
fidelity test); the meanings and remedies are written for administrators."""

from __future__ import annotations

from dataclasses import dataclass

from ..areas import see

# code: (parameter names, meaning, remedy or "")
CATALOGUE: dict[str, tuple[tuple[str, ...], str, str]] = {
    # host, pool and network operations (xapi_host_helpers.ml, xapi_pool_helpers.ml, xapi_network.ml)
    "HOST_IS_LIVE": (("host",), "The host is running: it cannot be powered on.", ""),
    "HOST_POWER_ON_MODE_DISABLED": (
        (),
        "The host has no power-on method (Wake-on-LAN, iLO, DRAC...) configured.",
        "Set its power-on mode (xe host-set-power-on-mode) first.",
    ),
    "CLUSTERED_SR_DEGRADED": (
        ("sr",),
        "A clustered SR is recovering: no host may go down until it has.",
        "Wait for the SR's recovery to finish, then try again.",
    ),
    "HOST_EVACUATE_IN_PROGRESS": (
        ("host",),
        "The host is being evacuated: no VM may start there meanwhile.",
        "Start the VM on another host, or wait for the evacuation to end.",
    ),
    "HA_ENABLE_IN_PROGRESS": ((), "HA is being enabled on the pool.", "Wait for it to finish."),
    "HA_DISABLE_IN_PROGRESS": ((), "HA is being disabled on the pool.", "Wait for it to finish."),
    "CLUSTER_CREATE_IN_PROGRESS": ((), "A cluster is being created.", "Wait for it to finish."),
    "DESIGNATE_NEW_MASTER_IN_PROGRESS": (
        (),
        "Another host is becoming the pool master.",
        "Wait for the hand-over to finish (the toolstacks restart), then try again.",
    ),
    "TLS_VERIFICATION_ENABLE_IN_PROGRESS": (
        (),
        "TLS verification is being enabled in the pool.",
        "Wait for it to finish.",
    ),
    "CONFIGURE_REPOSITORIES_IN_PROGRESS": (
        (),
        "The pool's update repositories are being changed.",
        "Wait for it to finish.",
    ),
    "SYNC_UPDATES_IN_PROGRESS": (
        (),
        "The pool is syncing its update repositories.",
        "Wait for the sync to finish.",
    ),
    "SYNC_BUNDLE_IN_PROGRESS": (
        (),
        "An update bundle is being uploaded to the pool.",
        "Wait for it to finish.",
    ),
    "APPLY_UPDATES_IN_PROGRESS": (
        (),
        "Updates are being applied to a host of the pool: one host at a time.",
        "Wait for that host's updates to finish, then go on.",
    ),
    "CLUSTER_ALREADY_EXISTS": ((), "The pool already has a cluster.", ""),
    "INCOMPATIBLE_CLUSTER_STACK_ACTIVE": (
        ("cluster_stack",),
        "HA is on with another cluster stack, so no cluster can be created.",
        "Disable HA first.",
    ),
    "POOL_SECRET_ROTATION_PENDING": (
        (),
        "A rotation of the pool secret is pending: no pool operation may run.",
        "Finish the rotation (xe pool-secret-rotate) first.",
    ),
    "SESSION_AUTHENTICATION_FAILED": (
        (),
        "The user name or password was not accepted.",
        "Check the password; the pool's root password is the master's.",
    ),
    "SESSION_INVALID": (
        ("handle",),
        "The session is no longer valid (the toolstack may have restarted).",
        "Log in again.",
    ),
    "HOST_IS_SLAVE": (
        ("Master IP address",),
        "This host is a pool member; API calls must go to the pool master.",
        "Connect to the pool master instead.",
    ),
    "HANDLE_INVALID": (
        ("class", "handle"),
        "The object no longer exists (it may just have been deleted).",
        "Refresh and try again.",
    ),
    "UUID_INVALID": (("type", "uuid"), "No object has this UUID.", ""),
    "MESSAGE_METHOD_UNKNOWN": (
        ("method",),
        "The host does not know this API call; it may run an older release.",
        "Update the host, or use the older procedure this release offers.",
    ),
    "MESSAGE_REMOVED": (
        (),
        "This host's release no longer has this API call (a later release removed it).",
        "Use the way this release offers instead.",
    ),
    "MESSAGE_PARAMETER_COUNT_MISMATCH": (
        ("method", "expected", "received"),
        "The API call had the wrong number of parameters for this host's release.",
        "",
    ),
    "HA_IS_ENABLED": (
        (),
        "High availability is enabled on the pool, which forbids this change.",
        "Disable HA first (HA area), make the change, then re-enable HA.",
    ),
    "PIF_IS_MANAGEMENT_INTERFACE": (
        ("PIF",),
        "This interface carries the management traffic.",
        "Move management to another interface first.",
    ),
    "PIF_BOND_NEEDS_MORE_MEMBERS": (
        (),
        "A bond needs at least two member interfaces.",
        "Select two or more NICs.",
    ),
    "PIF_ALREADY_BONDED": (
        ("PIF",),
        "The interface is already a member of a bond.",
        "Destroy that bond first.",
    ),
    "PIF_CANNOT_BOND_CROSS_HOST": ((), "All members of a bond must be on the same host.", ""),
    "VLAN_TAG_INVALID": (("VLAN",), "VLAN tags must be between 0 and 4094.", ""),
    "PIF_VLAN_EXISTS": (("PIF",), "This interface already has a VLAN with that tag.", ""),
    "DUPLICATE_PIF_DEVICE_NAME": (
        ("device",),
        "An interface with this device name already exists on the host.",
        "Forget the old interface first.",
    ),
    "MAC_INVALID": (
        ("MAC",),
        "The MAC address is not valid.",
        "Use six hex pairs, e.g. 00:1b:21:0a:ba:3c.",
    ),
    "HOST_NAME_INVALID": (
        ("reason",),
        "The host name is not valid.",
        "Use letters, digits, '.' and '-' only.",
    ),
    "PIF_DOES_NOT_ALLOW_UNPLUG": (
        ("PIF",),
        "The interface is marked as not unpluggable (storage or management).",
        "",
    ),
    "PIF_CONFIGURATION_ERROR": (("PIF", "msg"), "The host could not configure the interface.", ""),
    "NETWORK_CONTAINS_PIF": (
        ("pifs",),
        "The network still has interfaces attached.",
        "Remove them first.",
    ),
    "PIF_IS_PHYSICAL": (("PIF",), "Physical interfaces cannot be destroyed, only forgotten.", ""),
    "VM_BAD_POWER_STATE": (
        ("vm", "expected", "actual"),
        "The VM is not in the right power state for this.",
        "",
    ),
    "VM_IS_TEMPLATE": (("vm",), "This is a template, not a VM.", ""),
    "HOST_NOT_ENOUGH_FREE_MEMORY": (
        ("needed", "available"),
        "The host does not have enough free memory.",
        "Free memory by moving or stopping VMs.",
    ),
    "HOST_DISABLED": (
        ("host",),
        "The host is disabled (maintenance mode).",
        "Enable the host first.",
    ),
    "HOST_NOT_DISABLED": ((), "The host must be disabled first.", "Enter maintenance mode first."),
    "HOST_OFFLINE": (
        ("host",),
        "The host cannot be contacted.",
        "Check that it is powered on and on the network.",
    ),
    "HOST_IN_USE": (
        ("host", "type", "ref"),
        "VMs still run on the host.",
        "Move or shut down its VMs first (maintenance mode does).",
    ),
    "CANNOT_EVACUATE_HOST": (
        ("errors",),
        "Some VMs cannot leave the host.",
        "See the maintenance pre-check: shut down or move those VMs first.",
    ),
    "VM_REQUIRES_SR": (
        ("vm", "sr"),
        "The target host cannot reach a storage repository holding the VM's disks.",
        "Move the disks to shared storage, or choose a host that sees the SR.",
    ),
    "NO_HOSTS_AVAILABLE": (
        (),
        "No host is available for the operation.",
        "Enable or start a host.",
    ),
    "INVALID_NTP_CONFIG": (
        ("reason",),
        "The NTP configuration was not accepted.",
        "Give reachable NTP servers, or another NTP mode.",
    ),
    "MEMORY_CONSTRAINT_VIOLATION_ORDER": (
        (),
        "The memory limits break static min <= dynamic min <= dynamic max <= static max.",
        "Order the four limits that way.",
    ),
    "HOST_NOT_LIVE": (
        (),
        "The host is not live (it does not answer).",
        "Check it is powered on and on the network.",
    ),
    "CANNOT_CREATE_STATE_FILE": (
        (),
        "HA could not create its statefile: no SR given, or none can hold one.",
        "Choose a shared NFS, iSCSI or HBA SR attached on every host.",
    ),
    "HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED": (
        ("SR",),
        "The heartbeat SR is not shared, or not attached on every host.",
        "Attach it on every host, or choose another SR.",
    ),
    "INCOMPATIBLE_STATEFILE_SR": (
        ("SR type",),
        "This type of SR cannot hold the HA statefile.",
        "Choose an NFS, iSCSI, HBA or SMB SR.",
    ),
    "HA_NOT_ENABLED": ((), "HA is not enabled on the pool.", ""),
    "HA_LOST_STATEFILE": (
        (),
        "HA lost its statefile (the heartbeat SR): it cannot be disabled normally.",
        "Use Pool recovery (Ctrl+R), HA off: it switches HA off on each host.",
    ),
    "HA_TOO_FEW_HOSTS": ((), "HA needs at least two hosts.", "Add a host to the pool first."),
    "HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN": (
        (),
        "This would leave HA unable to restart every protected VM after the failures it must "
        "tolerate.",
        "Protect fewer VMs, lower the failures to tolerate, or free memory.",
    ),
    "SERVER_CERTIFICATE_INVALID": ((), "The certificate is not a valid PEM certificate.", ""),
    "SERVER_CERTIFICATE_KEY_INVALID": (
        (),
        "The private key is not a valid, unencrypted PEM key.",
        "",
    ),
    "SERVER_CERTIFICATE_KEY_ALGORITHM_NOT_SUPPORTED": (
        ("algorithm_oid",),
        "The host installs RSA keys only.",
        "Make an RSA key (2048 to 4096 bits) and a new CSR.",
    ),
    "SERVER_CERTIFICATE_KEY_RSA_LENGTH_NOT_SUPPORTED": (
        ("length",),
        "The RSA key length is not supported (2048 to 4096 bits).",
        "",
    ),
    "SERVER_CERTIFICATE_KEY_MISMATCH": (
        (),
        "The private key does not belong to the certificate.",
        "",
    ),
    "SERVER_CERTIFICATE_EXPIRED": (("now", "not_after"), "The certificate has expired.", ""),
    "SERVER_CERTIFICATE_NOT_VALID_YET": (
        ("now", "not_before"),
        "The certificate is not valid yet.",
        "",
    ),
    "SERVER_CERTIFICATE_CHAIN_INVALID": ((), "The certificate chain is not valid PEM.", ""),
    "HOST_HAS_RESIDENT_VMS": (
        ("host",),
        "VMs are still running on the host.",
        "Evacuate the host first.",
    ),
    "HOST_STILL_BOOTING": (
        (),
        "The host's toolstack is still starting.",
        "Wait a minute and try again.",
    ),
    "HOST_IN_EMERGENCY_MODE": (
        (),
        "The host is in emergency mode (it lost contact with its master).",
        "See Pool recovery in the HA area.",
    ),
    "OPERATION_NOT_ALLOWED": (("reason",), "The host refused the operation.", ""),
    # what a VM's state lets it do (the simulator's allowed_operations, XAPI's
    # xapi_vm_lifecycle.ml)
    "OPERATION_BLOCKED": (
        ("ref", "code"),
        "This operation is blocked on this object (its blocked_operations).",
        "Remove the block (xe vm-param-remove param-name=blocked-operations) if it is no longer wanted.",
    ),
    "OTHER_OPERATION_IN_PROGRESS": (
        ("class", "object", "operation_type", "operation_ref"),
        "Another operation on this object is still running.",
        "Wait for it to finish (see its task), then try again.",
    ),
    "VM_IS_SNAPSHOT": (
        ("vm", "operation"),
        "This is a snapshot: it can be reverted to, cloned, copied, exported or deleted, not run.",
        "",
    ),
    "PROVISION_ONLY_ALLOWED_ON_TEMPLATE": ((), "Only a template can be provisioned.", ""),
    "REVERT_ONLY_ALLOWED_ON_SNAPSHOT": ((), "Only a snapshot can be reverted to.", ""),
    "VM_LACKS_FEATURE": (
        ("vm",),
        "The VM's guest does not support this (no guest tools or drivers).",
        "Install the guest tools, or use the forced variant (hard shutdown/reboot).",
    ),
    "VM_NON_SUSPENDABLE": (
        ("vm", "reason"),
        "The VM's guest says it cannot be suspended or moved now.",
        "",
    ),
    "VM_IS_IMMOBILE": (
        ("VM",),
        "The VM is set not to move (nomigrate or nested virtualisation).",
        "Shut it down instead, or change its platform settings while halted.",
    ),
    "VM_IS_USING_NESTED_VIRT": (
        ("VM",),
        "The VM uses nested virtualisation, so its memory cannot be changed while it runs.",
        "",
    ),
    "VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED": (
        ("vm", "error"),
        "Quiesced snapshots are no longer supported.",
        "Take an ordinary snapshot.",
    ),
    "VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION": (
        (),
        "A disk of this VM is reset on every boot (on-boot=reset), which rules this out.",
        "",
    ),
    "VM_HAS_PCI_ATTACHED": (("vm",), "A PCI device is passed through to the VM.", ""),
    "VM_HAS_VGPU": (("vm",), "The VM has a virtual GPU that cannot be suspended or moved.", ""),
    "VM_HAS_VUSBS": (("VM",), "The VM has USB devices passed through.", "Detach them first."),
    "VM_IS_PART_OF_AN_APPLIANCE": (
        ("vm", "appliance"),
        "The VM belongs to a vApp.",
        "Remove it from the vApp first.",
    ),
    "VM_ASSIGNED_TO_PROTECTION_POLICY": (
        ("vm", "vmpp"),
        "The VM has a protection policy.",
        "Remove it from the policy first.",
    ),
    "VM_ASSIGNED_TO_SNAPSHOT_SCHEDULE": (
        ("vm", "vmss"),
        "The VM has a snapshot schedule.",
        "Remove it from the schedule first.",
    ),
    "VMSS_HAS_VM": (
        (),
        "VMs are still in this snapshot schedule.",
        "Take them out of it first (edit the schedule).",
    ),
    "NOT_SYSTEM_DOMAIN": (("vm",), "The VM is not a registered system domain.", ""),
    "NOT_SUPPORTED_DURING_UPGRADE": (
        (),
        "Not possible while a rolling pool upgrade is in progress.",
        "Finish the upgrade of every host first.",
    ),
    "VTPM_MAX_AMOUNT_REACHED": (("amount",), "The VM already has its virtual TPM.", ""),
    "INVALID_VALUE": (("field", "value"), "A value was not accepted.", ""),
    "MAP_DUPLICATE_KEY": (("type", "param_name", "uuid", "key"), "That key is already set.", ""),
    "RBAC_PERMISSION_DENIED": (
        ("permission", "message"),
        "Your role does not allow this action.",
        "Ask a Pool Admin, or log in with a more privileged account.",
    ),
    "SESSION_AUTHORIZATION_FAILED": (
        ("username", "msg"),
        "The password is right, but this user may not log in to the pool.",
        "A Pool Admin adds the user (or one of their groups) as a subject with a role, "
        f"in {see('security', 'u', 'n', tab='Users')}.",
    ),
    "AUTH_IS_DISABLED": (
        (),
        "The pool has not joined a directory, so it cannot look users up.",
        f"Enable Active Directory first, in {see('security', 'u', 'a', tab='Users')}.",
    ),
    "AUTH_UNKNOWN_TYPE": (("type",), "The pool knows no such kind of external authentication.", ""),
    "POOL_AUTH_ALREADY_ENABLED": (
        ("host",),
        "A host of the pool has joined a directory already.",
        "Disable external authentication first, then enable it again.",
    ),
    "SUBJECT_CANNOT_BE_RESOLVED": (
        (),
        "The directory knows no user or group by that name.",
        "Check the spelling; write DOMAIN\\name or name@domain for another domain.",
    ),
    "SUBJECT_ALREADY_EXISTS": ((), "That user or group may log in already.", ""),
    "ROLE_ALREADY_EXISTS": ((), "The subject has that role already.", ""),
    "ROLE_NOT_FOUND": ((), "The subject does not have that role (or it does not exist).", ""),
    "FIELD_TYPE_ERROR": (("field",), "A value was of the wrong type.", ""),
    "POOL_AUTH_DISABLE_FAILED_WRONG_CREDENTIALS": (
        ("host", "message"),
        "The pool left the domain, but the machine accounts stay in AD: the credentials "
        "given were refused.",
        "Ask a domain admin to disable or delete the hosts' computer accounts.",
    ),
    "POOL_AUTH_ENABLE_FAILED": (
        ("host", "message"),
        "A host could not join the domain.",
        "Read the host's message; check DNS, time and the join account.",
    ),
    "POOL_AUTH_ENABLE_FAILED_DOMAIN_LOOKUP_FAILED": (
        ("host", "message"),
        "A host could not find the domain's controllers.",
        "Give every host the domain controller's DNS servers, in "
        f"{see('network', 'd')}, and check the domain name.",
    ),
    "POOL_AUTH_ENABLE_FAILED_WRONG_CREDENTIALS": (
        ("host", "message"),
        "The domain refused the join account's name or password.",
        "Check the join account's user name and password.",
    ),
    "POOL_AUTH_ENABLE_FAILED_PERMISSION_DENIED": (
        ("host", "message"),
        "The join account may not add computers to the domain.",
        "Use an account allowed to join computers (or pre-create the computer accounts).",
    ),
    "POOL_AUTH_ENABLE_FAILED_INVALID_OU": (
        ("host", "message"),
        "The domain has no such organisational unit.",
        "Write the OU as the domain shows it (e.g. OU=Servers,DC=corp,DC=example), or leave it empty.",
    ),
    "POOL_AUTH_ENABLE_FAILED_INVALID_ACCOUNT": (
        ("host", "message"),
        "The join account is not valid in the domain (disabled or expired).",
        "Use another join account.",
    ),
    "POOL_AUTH_ENABLE_FAILED_DUPLICATE_HOSTNAME": (
        ("host", "message"),
        "Two hosts of the pool have the same host name: AD needs unique names.",
        f"Rename one of them, in {see('network', 'o')}, then try again.",
    ),
    "POOL_AUTH_ENABLE_FAILED_UNAVAILABLE": (
        ("host", "message"),
        "The domain's controllers did not answer.",
        "Check that the controllers are up and reachable (ports 53, 88, 123, 137, 139, 389, 445, "
        "464, 3268), then retry.",
    ),
    "POOL_AUTH_ENABLE_FAILED_NO_SUPPORT_ENCRYPT_TYPE": (
        ("host", "message"),
        "The domain does not offer an encryption type the host accepts.",
        "Enable AES encryption types for Kerberos in the domain.",
    ),
    "VDI_IN_USE": (
        ("vdi", "operation"),
        "The disk is in use (a running VM has it attached).",
        "Shut the VM down or detach the disk first.",
    ),
    # virtual devices and disks (VBD, VIF, VDI messages)
    "DEVICE_ALREADY_EXISTS": (
        ("device",),
        "The VM already has a device at this position.",
        "Choose a free position (or autodetect).",
    ),
    "INVALID_DEVICE": (("device",), "This is not a device position the VM can have.", ""),
    "DISK_VBD_MUST_BE_READWRITE_FOR_HVM": (
        ("vbd",),
        "An HVM guest's disks must be read/write.",
        "Attach the disk read/write, or as a CD.",
    ),
    "VBD_CDS_MUST_BE_READONLY": ((), "A CD drive can only be read-only.", ""),
    "VBD_NOT_REMOVABLE_MEDIA": (
        ("vbd",),
        "Only a CD drive can be empty or have its disc changed.",
        "",
    ),
    "VBD_NOT_EMPTY": (("vbd",), "The drive already has a disc in it.", "Eject it first."),
    "VBD_IS_EMPTY": (("vbd",), "The drive has no disc in it.", ""),
    "VDI_READONLY": (
        ("vdi",),
        "The disk is read-only; it cannot be written to.",
        "Attach it read-only, or copy it.",
    ),
    "VDI_INCOMPATIBLE_TYPE": (
        ("vdi", "type"),
        "A disk of this type cannot be used this way (HA or CBT metadata, say).",
        "",
    ),
    "VDI_NOT_MANAGED": (("vdi",), "The pool does not manage this disk.", ""),
    "SR_OPERATION_NOT_SUPPORTED": (
        ("sr",),
        "The storage repository's type cannot do this.",
        "Use a storage repository whose type supports it.",
    ),
    "HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED": (
        ("network",),
        "An HA-protected VM can only use networks every host has.",
        "Use a network present on every host, or protect the VM less.",
    ),
    "RESTORE_INCOMPATIBLE_VERSION": (
        (),
        "The database was dumped by an incompatible release of XenServer / XCP-ng.",
        "Restore it on a host of the release that made it.",
    ),
    "RESTORE_TARGET_MGMT_IF_NOT_IN_BACKUP": (
        (),
        "This master's management interface is not in the database file.",
        "The file is from another pool or an older NIC layout: choose the right file.",
    ),
    "RESTORE_TARGET_MISSING_DEVICE": (
        ("device",),
        "A network interface named in the database file is missing on this master.",
        "Restore onto the host the database came from (same NICs), or fix the NICs first.",
    ),
    "IMPORT_ERROR": (("msg",), "The VM could not be imported.", ""),
    "IMPORT_ERROR_ATTACHED_DISKS_NOT_FOUND": (
        (),
        "The VM's disks are not on any SR of this pool.",
        "Attach the SR that holds them first (Storage), then import again.",
    ),
    "IMPORT_ERROR_PREMATURE_EOF": (
        (),
        "The file ended before the import was complete: it is cut short.",
        "Import a whole copy of the file (export the VM again if need be).",
    ),
    "IMPORT_ERROR_SOME_CHECKSUMS_FAILED": (
        (),
        "Blocks of the file failed their checksum: its data is corrupt.",
        "Import another copy of the file.",
    ),
    "IMPORT_ERROR_UNEXPECTED_FILE": (
        ("filename_expected", "filename_found"),
        "The file is not a valid XVA: a part of it is missing or out of place.",
        "",
    ),
    "IMPORT_ERROR_FAILED_TO_FIND_OBJECT": (
        ("id",),
        "The file refers to an object it does not hold: it is not a complete export.",
        "",
    ),
    "IMPORT_ERROR_CANNOT_HANDLE_CHUNKED": ((), "The host cannot import a chunked stream.", ""),
    "IMPORT_INCOMPATIBLE_VERSION": (
        (),
        "The file was exported by a newer release than this pool runs.",
        "Import it on a pool of that release or newer.",
    ),
    "DUPLICATE_MAC_SEED": (
        ("seed",),
        "Another VM of the pool has this VM's MAC seed: their MACs would clash.",
        "Import it as a copy (new UUID and MACs).",
    ),
    "VM_TO_IMPORT_IS_NOT_NEWER_VERSION": (
        ("vm", "existing_version", "version_to_import"),
        "A VM with this UUID is in the pool, as new as the file or newer.",
        "Import it as a copy, or destroy that VM first.",
    ),
    "VM_NO_SUSPEND_SR": (
        ("vm",),
        "There is no SR to write the VM's memory image to.",
        "Set a suspend SR for the VM or the pool (or a default SR).",
    ),
    "DEFAULT_SR_NOT_FOUND": (
        ("sr",),
        "The pool has no default SR, and none was chosen.",
        "Choose an SR, or set the pool's default SR.",
    ),
    "VM_REVERT_FAILED": (
        ("vm", "snapshot"),
        "The revert failed part way: the VM is left halted.",
        "Revert again, or to the state kept before it.",
    ),
    "SR_HAS_PBD": (
        ("sr",),
        "The SR is still attached to a host.",
        "Detach it first (every host's PBD unplugged), then try again.",
    ),
    "SR_HAS_NO_PBDS": (
        ("sr",),
        "The SR is not attached to any host.",
        "Attach it first.",
    ),
    "HOSTS_NOT_HOMOGENEOUS": (
        ("reason",),
        "The host's CPUs differ from the pool's.",
        "Join a pool of the same CPU vendor and features, or force it knowing that VMs "
        "will only see what every host offers (and cannot move if they used more).",
    ),
    "JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS": (
        (),
        "This host is the master of other hosts: only a host alone can join a pool.",
        "Eject its members first.",
    ),
    "JOINING_HOST_CANNOT_HAVE_RUNNING_OR_SUSPENDED_VMS": (
        (),
        "The joining host has running or suspended VMs.",
        "Shut them down (or export them) first.",
    ),
    "JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS": (
        (),
        "The joining host has shared storage of its own.",
        "Detach and forget its shared SRs first; the pool's are attached after joining.",
    ),
    "JOINING_HOST_CONNECTION_FAILED": (
        (),
        "The joining host could not reach the pool master.",
        "Check the master's address and that the hosts reach each other (port 443).",
    ),
    "POOL_JOINING_HOST_MUST_HAVE_SAME_API_VERSION": (
        ("host_api_version", "master_api_version"),
        "The joining host runs another release than the pool.",
        "Update it to the pool's release (or the pool to its) first.",
    ),
    "SR_UUID_EXISTS": (("uuid",), "The pool has an SR with that UUID already.", ""),
    "PBD_EXISTS": (
        ("sr", "host", "pbd"),
        "The SR is connected to that host already.",
        "Plug the existing PBD instead.",
    ),
    "USER_IS_NOT_LOCAL_SUPERUSER": (
        ("msg",),
        "Only the local root account can do this.",
        "Log in as root.",
    ),
    "TASK_CANCELLED": (("task",), "The operation was cancelled.", ""),
    "INTERNAL_ERROR": (
        ("message",),
        "The host hit an internal error.",
        "See xensource.log on the host.",
    ),
    "SESSION_NOT_REGISTERED": (("handle",), "The session is not registered for events.", ""),
    "NOT_IMPLEMENTED": (
        ("function",),
        "This host does not implement this call.",
        "Use the procedure this release offers (the host may be older or newer than expected).",
    ),
    "CANNOT_ADD_VLAN_TO_BOND_SLAVE": (
        ("PIF",),
        "A bond member cannot carry a VLAN.",
        "Put the VLAN on the bond's own interface.",
    ),
    "CANNOT_CHANGE_PIF_PROPERTIES": (
        ("PIF",),
        "The settings of a bond member cannot be changed.",
        "Change the bond's own interface instead.",
    ),
    "CANNOT_PLUG_BOND_SLAVE": (
        ("PIF",),
        "A bond member cannot be plugged on its own.",
        "Plug the bond's interface.",
    ),
    "HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE": (
        (),
        "With HA enabled, a bond that carries the management interface cannot be made or removed.",
        "Disable HA first, then re-enable it afterwards.",
    ),
    "INVALID_IP_ADDRESS_SPECIFIED": (
        ("parameter",),
        "An address given is not a valid IP address.",
        "Use four numbers 0-255 separated by dots.",
    ),
    "NETWORK_ALREADY_CONNECTED": (
        ("network", "connected PIF"),
        "That network is already connected to an interface on this host.",
        "",
    ),
    "NETWORK_CONTAINS_VIF": (
        ("vifs",),
        "Virtual machines still have network interfaces on this network.",
        "Move those VMs' interfaces to another network first.",
    ),
    "PIF_BOND_MORE_THAN_ONE_IP": (
        (),
        "More than one of the NICs to bond has an IP address; a bond keeps at most one.",
        "Remove the addresses of all but one NIC first.",
    ),
    "PIF_HAS_NO_NETWORK_CONFIGURATION": (
        ("PIF",),
        "The interface has no IP configuration, so it cannot carry management.",
        "Give it an address first.",
    ),
    "PIF_IS_NOT_PHYSICAL": (("PIF",), "Only a physical NIC can be used for this.", ""),
    "PIF_IS_VLAN": (("PIF",), "A VLAN cannot be created on another VLAN.", ""),
    "PIF_VLAN_STILL_EXISTS": (
        ("PIF",),
        "The interface still carries VLANs.",
        "Destroy those VLANs first.",
    ),
    "EVENT_FROM_TOKEN_PARSE_FAILURE": (("token",), "The event token was not understood.", ""),
    "XENAPI_MISSING_PLUGIN": (
        ("name",),
        "The host has no such plugin (XCP-ng's updater.py is not on XenServer).",
        "",
    ),
    "XENAPI_PLUGIN_FAILURE": (
        ("status", "stdout", "stderr"),
        "A plugin in dom0 failed.",
        "Read its output; in dom0, /var/log/xensource.log has more.",
    ),
    # hotfixes: patches (6.x), updates (7.x), repositories (8.x)
    "CANNOT_FIND_PATCH": (
        (),
        "The patch's files are no longer in the pool (cleaned up, or a new master lacks them).",
        "Upload the patch again.",
    ),
    "CANNOT_FIND_UPDATE": (
        (),
        "The update's files are no longer in the pool (cleaned up, or its SR is detached).",
        "Upload the update again.",
    ),
    "INVALID_PATCH": (
        (),
        "The file is not a valid patch for this host.",
        "Check that it is a hotfix for this release, downloaded completely.",
    ),
    "INVALID_UPDATE": (
        ("info",),
        "The file is not a valid update (an update ISO with update.xml).",
        "Check that it is an update for this release, downloaded completely.",
    ),
    "PATCH_ALREADY_APPLIED": (
        ("patch",),
        "This patch is applied on the host already.",
        "",
    ),
    "PATCH_ALREADY_EXISTS": (
        ("uuid",),
        "This patch was uploaded already.",
        "Use the one in the pool.",
    ),
    "PATCH_IS_APPLIED": (
        (),
        "The patch is applied on a host and cannot be removed.",
        "Clean up its files instead.",
    ),
    "UPDATE_ALREADY_APPLIED": (
        ("update",),
        "This update is applied on the host already.",
        "",
    ),
    "UPDATE_ALREADY_APPLIED_IN_POOL": (
        ("update",),
        "This update is applied on every host already.",
        "",
    ),
    "UPDATE_ALREADY_EXISTS": (
        ("uuid",),
        "This update was uploaded already.",
        "Use the one in the pool.",
    ),
    "UPDATE_IS_APPLIED": (
        (),
        "The update is applied on a host and cannot be removed.",
        "Clean up its files instead.",
    ),
    "UPDATE_POOL_APPLY_FAILED": (
        ("hosts",),
        "The update could not be applied on some hosts.",
        "Precheck it on those hosts to see why.",
    ),
    "UPDATE_APPLY_FAILED": (
        ("output",),
        "The update failed to install.",
        "Read the output; the host may need its disk space or packages fixed.",
    ),
    "PATCH_APPLY_FAILED": (
        ("output",),
        "The patch failed to install.",
        "Read the output; the host may need its disk space fixed.",
    ),
    "OUT_OF_SPACE": (
        ("location",),
        "There is not enough space to upload the update.",
        "Free space on the SR or choose another.",
    ),
    "NO_REPOSITORIES_CONFIGURED": (
        (),
        "No update repository is configured for the pool.",
        "Introduce one (xe repository-introduce) and set it (xe pool-set-repositories).",
    ),
    "REPOSITORY_ALREADY_EXISTS": (
        ("ref",),
        "A repository with this URL exists already.",
        "",
    ),
    "REPOSITORY_IS_IN_USE": (
        (),
        "The repository is in use by the pool.",
        "Remove it from the pool's repositories first.",
    ),
    "UPDATEINFO_HASH_MISMATCH": (
        (),
        "The list of updates changed since it was read (or was never synced).",
        "Sync the repositories, read the list again, then apply.",
    ),
    "HOST_DISABLED_UNTIL_REBOOT": (
        ("host",),
        "The host stays disabled until it reboots.",
        "Reboot it.",
    ),
    "VDI_TOO_SMALL": (
        ("vdi", "minimum size"),
        "The disk is smaller than what was written to it.",
        "",
    ),
    "UPDATE_PRECHECK_FAILED_OUT_OF_SPACE": (
        ("update", "available_space", "required_space "),
        "The host has too little space in dom0 to install the update.",
        "Free space in dom0 (old logs, old updates: clean them up) and precheck again.",
    ),
    "UPDATE_PRECHECK_FAILED_PREREQUISITE_MISSING": (
        ("update", "prerequisite_update"),
        "The update needs another update applied first.",
        "Apply the prerequisite on this host first.",
    ),
    "UPDATE_PRECHECK_FAILED_CONFLICT_PRESENT": (
        ("update", "conflict_update"),
        "A conflicting update is applied on the host.",
        "Read the update's notes: it may supersede or conflict with that one.",
    ),
    "UPDATE_PRECHECK_FAILED_WRONG_SERVER_VERSION": (
        ("update", "installed_version", "required_version "),
        "The update is for another release of XenServer.",
        "Get the update for this host's version.",
    ),
    "UPDATE_PRECHECK_FAILED_GPGKEY_NOT_IMPORTED": (
        ("update",),
        "The host lacks the key that signed the update's packages.",
        "Import the vendor's GPG key in dom0.",
    ),
    "UPDATE_PRECHECK_FAILED_UNKNOWN_ERROR": (
        ("update", "info"),
        "The update's precheck failed.",
        "Read the details; the host's /var/log/xensource.log has more.",
    ),
    "PATCH_PRECHECK_FAILED_OUT_OF_SPACE": (
        ("patch", "found_space", "required_required"),
        "The host has too little space in dom0 to install the patch.",
        "Free space in dom0 and precheck again.",
    ),
    "PATCH_PRECHECK_FAILED_PREREQUISITE_MISSING": (
        ("patch", "prerequisite_patch_uuid_list"),
        "The patch needs other patches applied first.",
        "Apply the prerequisites on this host first.",
    ),
    "PATCH_PRECHECK_FAILED_WRONG_SERVER_VERSION": (
        ("patch", "found_version", "required_version"),
        "The patch is for another release.",
        "Get the patch for this host's version.",
    ),
    "PATCH_PRECHECK_FAILED_WRONG_SERVER_BUILD": (
        ("patch", "found_build", "required_build"),
        "The patch is for another build of this release.",
        "Get the patch for this host's build.",
    ),
    "PATCH_PRECHECK_FAILED_VM_RUNNING": (
        ("patch",),
        "VMs are running on the host and this patch needs it empty.",
        "Move its VMs away (maintenance mode) and precheck again.",
    ),
    "PATCH_PRECHECK_FAILED_ISO_MOUNTED": (
        ("patch",),
        "A VM has the tools ISO inserted.",
        "Eject the tools ISO from every running VM.",
    ),
    "PATCH_PRECHECK_FAILED_UNKNOWN_ERROR": (
        ("patch", "info"),
        "The patch's precheck failed.",
        "Read the details; the host's logs have more.",
    ),
    # storage operations (xapi_sr_operations.ml, xapi_vdi.ml, xapi_vbd_helpers.ml, xapi_vif_helpers.ml)
    "SR_NOT_EMPTY": (
        (),
        "The SR still holds disks.",
        "Delete its disks first, or forget the SR instead.",
    ),
    "SR_HAS_MULTIPLE_PBDS": (
        ("PBD",),
        "This local SR is connected to more than one host.",
        "",
    ),
    "VDI_CBT_ENABLED": (
        ("vdi",),
        "Changed block tracking is on for this disk, which rules this out.",
        "Disable changed block tracking on the disk first.",
    ),
    "VDI_NO_CBT_METADATA": (
        ("vdi",),
        "The disk has no changed block tracking data.",
        "",
    ),
    "VDI_IS_A_PHYSICAL_DEVICE": (
        ("vdi",),
        "This disk is a physical device of the host: it cannot be deleted.",
        "",
    ),
    "VDI_HAS_RRDS": (
        ("vdi",),
        "This disk holds the pool's performance statistics.",
        "",
    ),
    "VDI_IS_SHARABLE": (
        ("vdi",),
        "A sharable disk cannot be snapshotted.",
        "",
    ),
    "VDI_NEEDS_VM_FOR_MIGRATE": (
        ("vdi",),
        "Only a disk attached to a VM can be moved this way.",
        "Move the VM's storage instead, or copy the disk.",
    ),
    "VBD_NOT_UNPLUGGABLE": (
        ("vbd",),
        "This drive is not marked unpluggable: it cannot be detached while the VM runs.",
        "Shut the VM down first, or mark the drive unpluggable.",
    ),
    "DEVICE_ALREADY_ATTACHED": (("device",), "The device is already attached.", ""),
    "DEVICE_ALREADY_DETACHED": (("device",), "The device is not attached.", ""),
    "VM_MISSING_PV_DRIVERS": (
        ("vm",),
        "The VM has no guest tools (PV drivers), which this needs while it runs.",
        "Install the guest tools, or shut the VM down first.",
    ),
}


@dataclass(frozen=True)
class HumanError:
    code: str
    params: tuple[str, ...]
    meaning: str
    remedy: str
    details: str  # "name: value" pairs

    def __str__(self) -> str:
        text = self.meaning
        if self.details:
            text += f" ({self.details})"
        if self.remedy:
            text += " " + self.remedy
        return text


def describe(description: list | tuple, name_of=lambda ref: None) -> HumanError:
    """``[code, *params]`` as XAPI sends it, in words; ``name_of`` names the
    objects the parameters give as refs (the cache's ``name_of``)."""
    code, *params = [str(x) for x in description] or ["UNKNOWN"]
    params = [name_of(p) or p if p.startswith("OpaqueRef:") else p for p in params]
    if code.startswith("SR_BACKEND_FAILURE_"):
        return _storage_failure(code, params)
    names, meaning, remedy = CATALOGUE.get(code, ((), "", ""))
    if not meaning:
        meaning = f"The host refused the request: {code.replace('_', ' ').lower()}."
    pairs = [f"{names[i] if i < len(names) else 'detail'}: {p}" for i, p in enumerate(params) if p]
    return HumanError(code, tuple(params), meaning, remedy, ", ".join(pairs))


def storage_error(code: str) -> tuple[str, str] | None:
    """(name, description) of ``SR_BACKEND_FAILURE_<n>``, when the number is known."""
    from ..datamodel import sr_errors

    number = code.rsplit("_", 1)[-1]
    return sr_errors().get(int(number)) if number.isdigit() else None


def _storage_failure(code: str, params: list[str]) -> HumanError:
    """A storage manager's failure: its text from XE_SR_ERRORCODES, and what
    it printed (not XML the console shows elsewhere, like an export list)."""
    known = storage_error(code)
    meaning = (
        f"The storage manager failed: {known[1].rstrip('.')}."
        if known
        else "The storage manager failed."
    )
    said = [p for p in params if p and not p.lstrip().startswith("<")]
    details = "; ".join(p.strip() for p in said if not known or p.strip() != known[1])
    return HumanError(code, tuple(params), meaning, "", details[:300])
