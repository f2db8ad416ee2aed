package tokens

// AAD exposes the additional data tokens are sealed under, so tests can open the stored ciphertext.
var AAD = aad
