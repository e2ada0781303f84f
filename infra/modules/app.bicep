// The resources of one deployment, in one resource group: storage (host, state, run queue, profile
// files, deployment package), monitoring, Key Vault, the Flex Consumption plan and Function App,
// its authentication, and the role assignments of its system-assigned identity.
//
// Security posture (asserted by tests/infra/test_bicep.py): no storage account keys anywhere
// (shared keys disabled, identity-based connections only), HTTPS only with TLS 1.2, FTP and basic
// publishing credentials off, Entra-only Application Insights ingestion, secrets only in Key
// Vault (RBAC) behind Key Vault references, data roles scoped to the one resource they are for.
//
// No secret value passes through this template: the admin sets the Key Vault secrets once with
// `az keyvault secret set` (docs/setup.md) and rotates them there (docs/operations.md). The template
// only points the app settings at them, so re-provisioning can never overwrite or drop a secret.

param location string
param tags object
param resourceToken string
param principalId string
param principalType string
param dataverseUrl string
param dataverseAuth string
param dataverseClientId string
param apiClientId string
param apiAuthMode string
param apiAdminRole string
param apiReaderRole string
param scanSchedule string
param profileSource string
param profileFile string
param maximumInstanceCount int
param instanceMemoryMB int

var functionAppName = 'func-${resourceToken}'
// Flex Consumption pulls the package from this container (name pattern of the azd samples).
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
// Profile snapshots uploaded by the admin; PROFILE_FILE defaults to blob://profiles/profiles.jsonl.
var profilesContainerName = 'profiles'
// Run requests from the settings API; the queue trigger (connection "AzureWebJobsStorage") drains it.
// Must equal functions/state/run_queue.py RUN_QUEUE_NAME.
var runQueueName = 'data-validation-runs'
// SCAN_FANOUT=queue: one message per batch of a run (docs/scan.md, "Fan-out"); the host creates -poison
var batchQueueName = 'data-validation-batches'
// Key Vault secret names the app settings refer to; the admin sets them (docs/setup.md).
var pdlSecretName = 'pdl-api-key'
var dataverseSecretName = 'dataverse-client-secret'
var tenantId = tenant().tenantId
var loginEndpoint = environment().authentication.loginEndpoint

// Built-in role definition ids (the same in every subscription).
var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

// ------------------------------------------------------------------------------------ storage

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    // Entra ID only: account keys cannot be used, so no connection string with a key can work.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Flex Consumption without VNet integration reaches storage over its public endpoint: a
    // locked-down account (public access off, firewall deny by default) stops the host itself.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource profilesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: profilesContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource runQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: runQueueName
}

resource batchQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: batchQueueName
}

// The state tables (<prefix>contacts, <prefix>runs, ...) are created by the app on first use.

// --------------------------------------------------------------------------------- monitoring

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Telemetry only with an Entra token (the app's identity, Monitoring Metrics Publisher); the
    // instrumentation key in the connection string alone cannot ingest anything.
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------------------------- key vault

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Azure RBAC instead of access policies: the app gets Key Vault Secrets User, nothing more.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    // Flex Consumption without VNet integration resolves Key Vault references over the public
    // endpoint: a vault with public access off or a deny-by-default firewall breaks every reference.
    publicNetworkAccess: 'Enabled'
  }
}

// The secrets themselves are not resources of this template (see the header): the app settings
// below refer to these names, and the admin creates them (Key Vault Secrets Officer, granted below).

// ------------------------------------------------------------------------------- function app

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  // azd deploys the service `api` (azure.yaml) to the app that carries this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  // The package container must exist before the app points its deployment storage at it (the value
  // below names it through a variable, which gives no implicit dependency).
  dependsOn: [
    deploymentContainer
  ]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// No FTP and no username/password deployment: azd deploys with an Entra token.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

// ------------------------------------------------------------------------------- app settings
//
// Exactly the settings functions/config.py reads that a deployment must decide, plus the platform's
// own (host storage, Application Insights). Everything else keeps the code's default; the settings
// API (GET/PATCH /api/settings) changes the run-time knobs without a redeploy.

var platformSettings = {
  // Host storage through the app's identity: no AzureWebJobsStorage connection string.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  // glibc gives each thread its own malloc arena, whose freed space a long scan never returns:
  // two arenas keep the worker's resident set flat (docs/scan.md, "Memory").
  MALLOC_ARENA_MAX: '2'
}

var appSettingsBase = {
  DATAVERSE_URL: dataverseUrl
  DATAVERSE_AUTH: dataverseAuth
  // State tables and the run-request queue live in the same account, reached with the app's identity.
  STATE_STORAGE_ACCOUNT_URL: storage.properties.primaryEndpoints.table
  STATE_QUEUE_ACCOUNT_URL: storage.properties.primaryEndpoints.queue
  // The timer binding reads %SCAN_SCHEDULE%: the host refuses to index the timer without it.
  SCAN_SCHEDULE: scanSchedule
  PROFILE_SOURCE: profileSource
  PROFILE_FILE: profileFile
  PROFILE_STORAGE_ACCOUNT_URL: storage.properties.primaryEndpoints.blob
  API_AUTH: apiAuthMode
  API_ADMIN_ROLE: apiAdminRole
  API_READER_ROLE: apiReaderRole
}

// Key Vault references with versionless secret URIs: a new secret version is picked up without a
// redeploy. Set exactly when the mode needs the secret, whether or not the admin has stored it yet
// (an unset secret leaves the reference unresolved, which doctor reports; it never drops the
// setting). (Conditions are in parentheses because pycep-parser, which tests/infra uses, binds
// `a != b ? x : y` wrongly.)
var pdlSettings = (profileSource != 'pdl') ? {} : {
  PDL_API_KEY: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/${pdlSecretName})'
}

// client_secret without a client id would deploy settings that config.py rejects (every function
// would fail to start). ARM evaluates only the chosen branch of a condition, so this int() of a
// text fails the deployment (an invalid int conversion; the text says what to do) exactly for that
// combination and never otherwise. Bicep has no fail() in every version; tests/infra evaluates
// this guard for each combination.
var dataverseSecretSettings = (dataverseAuth != 'client_secret') ? {} : {
  DATAVERSE_TENANT_ID: tenantId
  DATAVERSE_CLIENT_ID: (empty(dataverseClientId)) ? string(int('DATAVERSE_AUTH=client_secret needs DATAVERSE_CLIENT_ID: azd env set DATAVERSE_CLIENT_ID <application id>')) : dataverseClientId
  DATAVERSE_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/${dataverseSecretName})'
}

// Tokens for the API's app registration. docs/setup.md sets requestedAccessTokenVersion 2, so tokens
// come from the v2 endpoint of this cloud's login authority (no hard-coded v1 sts.windows.net
// issuer, which differs in sovereign clouds); v2 tokens carry the client id as audience.
var jwtSettings = (apiAuthMode != 'jwt') ? {} : {
  API_JWT_AUDIENCE: '${apiClientId},api://${apiClientId}'
  API_JWT_ISSUER: '${loginEndpoint}${tenantId}/v2.0'
  API_JWKS_URL: '${loginEndpoint}${tenantId}/discovery/v2.0/keys'
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(platformSettings, appSettingsBase, pdlSettings, dataverseSecretSettings, jwtSettings)
  // The host starts with these settings: its roles must exist first (storage, telemetry, Key Vault).
  dependsOn: [
    functionBlobDataOwner
    functionQueueDataContributor
    functionTableDataContributor
    functionMetricsPublisher
    functionKeyVaultSecretsUser
  ]
}

// ---------------------------------------------------------------------------- authentication
//
// App Service Authentication (Easy Auth) with the API's Entra app registration, enforced: requests
// without a valid token for it get 401 before they reach the code; /api/health stays open. Flex
// Consumption supports it: the plan page's considerations (ms.date 2025-05-12, GA) no longer list
// "EasyAuth isn't supported", which the 2024 preview revision did. The code still checks the token
// itself by default (API_AUTH=jwt: signature, audience, issuer, app roles) as defence in depth, and
// the function key. API_AUTH=platform trusts X-MS-CLIENT-PRINCIPAL instead, and only while
// WEBSITE_AUTH_ENABLED=True, which App Service sets when this resource turns authentication on.

resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/api/health'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiClientId
          openIdIssuer: '${loginEndpoint}${tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            apiClientId
            'api://${apiClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

// --------------------------------------------------------------------------- role assignments
//
// The app's identity gets data-plane roles on exactly the resource each is for. Blob Data Owner is
// what the Functions host needs on its storage (deployment package, timer and lease blobs, keys).

resource functionBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roleIds.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource functionQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roleIds.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource functionTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roleIds.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource functionMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionApp.id, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource functionKeyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, functionApp.id, roleIds.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// The admin who runs azd: upload profile snapshots, set and rotate secrets. Nothing else.
resource adminBlobDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storage.id, principalId, roleIds.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: principalId
    principalType: principalType
  }
}

resource adminKeyVaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(keyVault.id, principalId, roleIds.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: principalId
    principalType: principalType
  }
}

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output functionAppPrincipalId string = functionApp.identity.principalId
output storageAccountName string = storage.name
output keyVaultName string = keyVault.name
output applicationInsightsName string = appInsights.name
