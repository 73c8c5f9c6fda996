# The fixed output of nix/npm-deps.nix, pinned in npm-deps.json for one package-lock.json: the
# lock's own hash, and the hash of the tarballs it names. Evaluation stops with what to do when the
# lock has moved on without its pin; and the output's name carries the lock's hash, so a stale
# output of another lock is never taken for this one.
{
  lib,
  lock,
  pinFile,
}:
let
  pin = lib.importJSON pinFile;
  lockHash = builtins.hashFile "sha256" lock;
in
if pin.lock != lockHash then
  throw "nix/npm-deps.json was made for another package-lock.json (sha256 ${pin.lock}, this one is ${lockHash}): run `npm run nix:pin-deps` and commit nix/npm-deps.json"
else
  {
    name = "vpsfw-npm-deps-${builtins.substring 0 16 lockHash}";
    inherit (pin) hash;
  }
