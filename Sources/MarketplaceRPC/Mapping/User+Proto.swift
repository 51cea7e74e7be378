import MarketplaceCore
import MarketplaceProtos

extension Marketplace_V1_User.Builder {
  func fill(from user: User) {
    id = user.id.description
    email = user.email
    displayName = user.displayName
    phone = user.phone ?? ""
    role = Marketplace_V1_Role(user.role)
    createdAt.fill(from: user.createdAt)
    updatedAt.fill(from: user.updatedAt)
  }
}

extension Marketplace_V1_Role {
  init(_ role: User.Role) {
    switch role {
    case .guest: self = .guest
    case .host: self = .host
    case .admin: self = .admin
    }
  }

  var requestedRole: Requested<User.Role> {
    switch self {
    case .unspecified: .unspecified
    case .guest: .value(.guest)
    case .host: .value(.host)
    case .admin: .value(.admin)
    default: .unrecognized
    }
  }
}

extension Marketplace_V1_RegisterRequest.View {
  var domainRequest: Register.Request {
    Register.Request(email: email, password: password, displayName: displayName, phone: phone, role: role.requestedRole)
  }
}

extension Marketplace_V1_LoginRequest.View {
  var domainRequest: SignIn.Request { SignIn.Request(email: email, password: password) }
}

extension Marketplace_V1_UpdateProfileRequest.View {
  var domainRequest: UpdateProfile.Request {
    UpdateProfile.Request(
      mask: updateMask.map { Array($0.paths) } ?? [], displayName: user?.displayName ?? "", phone: user?.phone ?? "")
  }
}

extension Marketplace_V1_ChangePasswordRequest.View {
  var domainRequest: ChangePassword.Request {
    ChangePassword.Request(currentPassword: currentPassword, newPassword: newPassword)
  }
}
