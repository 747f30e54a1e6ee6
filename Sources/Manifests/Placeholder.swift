enum ManifestsPlaceholder {}
