/** identity: a per-room device key pair (WebCrypto ECDSA P-256), signing and verification. */
export { DeviceIdentity, MemoryIdentityStore, verifySignature, canonicalBytes, SIGNATURE_ALGORITHM, PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN } from './device-identity';
export type { StoredIdentity, IdentityStore } from './device-identity';
export { toBase64Url, fromBase64Url, randomBase64Url } from './base64url';
export { verifySignatures, warmSignatureWorker, signatureWorkerStats, WORKER_MIN_BATCH } from './signature-worker';
export type { SignatureCheck } from './signature-worker';
