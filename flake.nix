{
  description = "vpsfw: a firewall and mini-IPS for virtual private servers";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      forAllSystems =
        f:
        nixpkgs.lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        default = pkgs.callPackage ./nix/package.nix { };
      });

      # The module builds the package from the system's own nixpkgs unless services.vpsfw.package is set.
      nixosModules.vpsfw = ./nix/module.nix;
      nixosModules.default = self.nixosModules.vpsfw;

      checks = forAllSystems (pkgs: import ./nix/tests { inherit pkgs self; });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          packages = with pkgs; [
            iptables
            ipset
            iproute2
            conntrack-tools
            hping
            tcpdump
          ];
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt-tree);
    };
}
